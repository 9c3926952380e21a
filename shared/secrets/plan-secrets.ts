/**
 * The secrets of one run, from the master key to the stage. build-dispatch (which alone holds
 * ESTAFETTE_SECRET_KEY) opens every `estafette.secret(...)` envelope a Plan uses with
 * `openPlanSecrets`, honouring each secret's pipeline restriction, and hands the VALUES to the
 * Job as JobSecrets (in the builder config, a Kubernetes Secret mounted only into the builder
 * container, or locally a private file the builder reads once and removes). The builder never
 * sees the key: `applyPlanSecrets` puts the values in place of their envelopes — in the env of
 * every stage, parallel child and service and in every string of their custom properties, the
 * places Estafette decrypts — and returns them for masking.
 */
import { dump, load } from 'js-yaml';
import type { Plan, PlanService, PlanStage } from '../plan/types.ts';
import { decryptSecret, findSecrets, isAllowed, parseSecretKey, replaceSecrets, SecretError, SecretNotAllowedError } from './secret.ts';

/** The secrets of one job as build-dispatch hands them to the builder. */
export interface JobSecrets {
  /** The decrypted value of each envelope the plan uses, keyed by the whole `estafette.secret(...)` text. */
  values: Record<string, string>;
  /**
   * Why the plan may not run with its secrets (one restricted to other pipelines, or one that
   * cannot be opened); the builder then fails the build with a `validate-secrets` step.
   */
  refused?: string;
}

/** The `source/owner/repo` name allow-lists are matched against. */
export const pipelineFullName = (plan: Pick<Plan, 'repoSource' | 'repoOwner' | 'repoName'>): string => `${plan.repoSource}/${plan.repoOwner}/${plan.repoName}`;

/**
 * Applies `text` to every string of the plan where secrets are decrypted; the custom properties
 * also reach extensions as one JSON and one YAML variable, which are decoded, mapped as data and
 * encoded again (a value holding quotes or newlines must not break them).
 */
function mapPlanStrings(plan: Plan, text: (s: string) => string): Plan {
  const deep = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(deep);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]));
    return v;
  };
  const structured = (k: string, v: string): string => {
    if (findSecrets(v).length === 0) return v;
    try {
      if (k === 'ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES') return JSON.stringify(deep(JSON.parse(v)));
      if (k === 'ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES_YAML') return dump(deep(load(v)));
    } catch {
      // Set by hand to something that is not JSON/YAML: a plain text like any other.
    }
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
  return { ...plan, estafetteEnv: env(plan.estafetteEnv), stages: plan.stages.map(stage) };
}

/** Every distinct envelope the plan uses where the builder decrypts, in order of appearance. */
export function planEnvelopes(plan: Plan): string[] {
  const found = new Set<string>();
  mapPlanStrings(plan, (s) => {
    for (const e of findSecrets(s)) found.add(e);
    return s;
  });
  return [...found];
}

/**
 * Opens the plan's secrets with the master key (build-dispatch only). Without a key the plan's
 * envelopes stay encrypted (`values` is empty). A secret restricted to other pipelines, or one
 * that cannot be opened, refuses them all: no value of a refused plan leaves the dispatcher.
 */
export function openPlanSecrets(plan: Plan, key: string | undefined): JobSecrets {
  if (!key) return { values: {} };
  const pipeline = pipelineFullName(plan);
  const values: Record<string, string> = {};
  try {
    const k = parseSecretKey(key);
    for (const envelope of planEnvelopes(plan)) {
      const { value, allowList } = decryptSecret(envelope, k);
      if (!isAllowed(allowList, pipeline)) throw new SecretNotAllowedError(pipeline, allowList);
      values[envelope] = value;
    }
  } catch (err) {
    if (err instanceof SecretError) return { values: {}, refused: err.message };
    throw err;
  }
  return { values };
}

/**
 * Puts the handed-over values in place of their envelopes (the builder). Returns the plan and
 * the values to mask. An envelope without a value (the dispatcher had no key) stays as it is.
 */
export function applyPlanSecrets(plan: Plan, secrets: JobSecrets | undefined): { plan: Plan; values: string[] } {
  const values = secrets?.values ?? {};
  if (Object.keys(values).length === 0) return { plan, values: [] };
  const replaced = mapPlanStrings(plan, (s) => replaceSecrets(s, (e) => values[e] ?? e));
  return { plan: replaced, values: Object.values(values) };
}
