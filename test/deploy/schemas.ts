/**
 * Validates one Kubernetes object of knative/ against the real schema of its kind:
 * kubernetes-models for core, apps, batch and RBAC; @kubernetes-models/knative (generated from the
 * Knative 1.10 CRDs — the installed version; newer fields such as delivery.timeout are absent, the
 * manifests use none) for Serving, Eventing and Sources; the hand-written checks of
 * gateway-api.ts for Gateway API objects. A kind with no schema here is an error, so a new kind in
 * knative/ cannot slip through unvalidated.
 */
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service as CoreService } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Service as KnativeService } from '@kubernetes-models/knative/serving.knative.dev/v1/Service';
import { Broker } from '@kubernetes-models/knative/eventing.knative.dev/v1/Broker';
import { Trigger } from '@kubernetes-models/knative/eventing.knative.dev/v1/Trigger';
import { PingSource } from '@kubernetes-models/knative/sources.knative.dev/v1/PingSource';
import { SinkBinding } from '@kubernetes-models/knative/sources.knative.dev/v1/SinkBinding';
import { checkHttpRoute, checkReferenceGrant } from './gateway-api.ts';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

/** The schema of each `apiVersion/kind` the manifests may contain. */
const MODELS: Record<string, ModelClass> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': CoreService,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'serving.knative.dev/v1/Service': KnativeService,
  'eventing.knative.dev/v1/Broker': Broker,
  'eventing.knative.dev/v1/Trigger': Trigger,
  'sources.knative.dev/v1/PingSource': PingSource,
  'sources.knative.dev/v1/SinkBinding': SinkBinding,
};

const FIELD_CHECKS: Record<string, (obj: unknown) => string[]> = {
  'gateway.networking.k8s.io/v1/HTTPRoute': checkHttpRoute,
  'gateway.networking.k8s.io/v1beta1/ReferenceGrant': checkReferenceGrant,
};

/** Kubernetes object names (RFC 1123 subdomain); Services and Namespaces need a 63-char label. */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * kustomize's secretGenerator wraps long base64 values over several lines; the API server decodes
 * them with Go's encoding/base64, which skips line breaks, but the schema's `byte` format does not.
 */
function withoutBase64LineBreaks<T extends { kind?: unknown }>(obj: T): T {
  const data = (obj as { data?: unknown }).data;
  if (obj.kind !== 'Secret' || typeof data !== 'object' || data === null) return obj;
  const unwrapped = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/[\r\n]/g, '') : v]));
  return { ...obj, data: unwrapped };
}

/** The `apiVersion/kind` keys that have a schema or a field check. */
export const KNOWN_KINDS = [...Object.keys(MODELS), ...Object.keys(FIELD_CHECKS)];

/** Every problem of one object (empty when valid). */
export function validateObject(obj: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }): string[] {
  const key = `${String(obj.apiVersion)}/${String(obj.kind)}`;
  const errors: string[] = [];
  const name = obj.metadata?.name;
  const nameRule = obj.kind === 'Service' || obj.kind === 'Namespace' ? DNS_LABEL : DNS_SUBDOMAIN;
  if (typeof name !== 'string' || !nameRule.test(name)) errors.push(`metadata.name ${JSON.stringify(name)} is not a valid ${obj.kind} name`);
  const Model = MODELS[key];
  if (Model) {
    try {
      new Model(withoutBase64LineBreaks(obj) as ConstructorParameters<typeof Model>[0]).validate();
    } catch (err) {
      errors.push((err as Error).message);
    }
    return errors;
  }
  const check = FIELD_CHECKS[key];
  if (check) return [...errors, ...check(obj)];
  return [...errors, `no schema for ${key}: add one to test/deploy/schemas.ts`];
}
