/**
 * Decrypts the `estafette.secret(...)` values of a Plan right before it runs: in the env of every
 * stage, parallel child and service, and in every string of their custom properties. Returns the
 * decrypted Plan and the values, which the builder masks in every log line. Secrets are opened
 * with the per-job key from the builder config; a secret whose allow-list excludes the pipeline
 * throws SecretNotAllowedError (the build then fails with a `validate-secrets` step).
 */
import { dump, load } from 'js-yaml';
import { decryptAllSecrets, findSecrets } from '../shared/secrets/secret.ts';
import type { Plan, PlanService, PlanStage } from '../shared/plan/types.ts';

/** The `source/owner/repo` name allow-lists are matched against. */
export const pipelineFullName = (plan: Plan): string => `${plan.repoSource}/${plan.repoOwner}/${plan.repoName}`;

/** Decrypts all secrets of the plan; without a key the plan is returned unchanged. */
export function decryptPlanSecrets(plan: Plan, key: string | undefined): { plan: Plan; values: string[] } {
  if (!key) return { plan, values: [] };
  const values: string[] = [];
  const name = pipelineFullName(plan);
  const text = (s: string): string => {
    if (findSecrets(s).length === 0) return s;
    const r = decryptAllSecrets(s, key, name);
    values.push(...r.values);
    return r.text;
  };
  const deep = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(deep);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]));
    return v;
  };
  /**
   * The custom properties also reach extensions as one JSON and one YAML variable; replacing an
   * envelope inside those texts with a value holding quotes or newlines would break them, so they
   * are decoded, decrypted as data and encoded again.
   */
  const structured = (k: string, v: string): string => {
    if (findSecrets(v).length === 0) return v;
    if (k === 'ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES') return JSON.stringify(deep(JSON.parse(v)));
    if (k === 'ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES_YAML') return dump(deep(load(v)));
    return text(v);
  };
  const env = (e: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, structured(k, v)]));
  const service = (s: PlanService): PlanService => ({ ...s, env: env(s.env), customProperties: deep(s.customProperties) as Record<string, unknown> });
  const stage = (s: PlanStage): PlanStage => ({
    ...s,
    env: env(s.env),
    customProperties: deep(s.customProperties) as Record<string, unknown>,
    parallelStages: s.parallelStages.map(stage),
    services: s.services.map(service),
  });
  return { plan: { ...plan, estafetteEnv: env(plan.estafetteEnv), stages: plan.stages.map(stage) }, values };
}
