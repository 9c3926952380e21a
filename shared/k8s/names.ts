/** Kubernetes object names and labels of build jobs. */
import type { JobRef } from '../jobs/runner.ts';

/** Label keys put on every Job, Secret and pod of a run, so an operator can find them. */
export const LABELS = {
  app: 'app.kubernetes.io/managed-by',
  kind: 'estafette.io/job-kind',
  id: 'estafette.io/job-id',
  owner: 'estafette.io/repo-owner',
  repo: 'estafette.io/repo-name',
} as const;

/** DNS-1123 label: lowercase alphanumerics and '-', starts and ends alphanumeric, ≤ 63 chars. */
function dnsLabel(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * `build-<owner>-<repo>-<id>` sanitised to ≤ 63 chars. The id is never cut (it makes the name
 * unique); the owner-repo part is shortened instead.
 */
export function jobName(ref: JobRef): string {
  const id = dnsLabel(ref.id);
  const room = 63 - ref.kind.length - id.length - 2;
  const middle = dnsLabel(`${ref.repoOwner}-${ref.repoName}`).slice(0, Math.max(0, room)).replace(/-+$/, '');
  return [ref.kind, middle, id].filter(Boolean).join('-');
}

/** Label values must be ≤ 63 chars of [A-Za-z0-9-_.], alphanumeric at both ends. */
function labelValue(s: string): string {
  return s
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** The labels of a run's objects. */
export function jobLabels(ref: JobRef): Record<string, string> {
  return {
    [LABELS.app]: 'estafette',
    [LABELS.kind]: ref.kind,
    [LABELS.id]: labelValue(ref.id),
    [LABELS.owner]: labelValue(ref.repoOwner),
    [LABELS.repo]: labelValue(ref.repoName),
  };
}

/** Label selector matching one run's objects. */
export const jobSelector = (ref: JobRef): string => `${LABELS.kind}=${ref.kind},${LABELS.id}=${labelValue(ref.id)}`;
