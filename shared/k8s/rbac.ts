/**
 * The Kubernetes API rights the kubernetes JobRunner needs, exactly: the Role in knative/ must
 * equal this, and the runner's contract test checks that the requests it makes are exactly these.
 * (No `watch`: job states are read on demand by housekeeping; no secret deletion: the Secret is
 * owned by its Job and garbage-collected with it.)
 */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export const REQUIRED_RBAC: RbacRule[] = [
  { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'delete', 'get', 'list'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
];

/**
 * The part of those cron-relay's housekeeping uses: it reads job states (`states`, `state`) and
 * stops a job past its deadline (`cancel`); it never starts one, so it has no `create` and no
 * Secrets (knative/ gives it its own ServiceAccount and Role with exactly this).
 */
export const HOUSEKEEPING_RBAC: RbacRule[] = [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['delete', 'get', 'list'] }];
