/**
 * The preview of a run that `estafette plan` prints (its JSON is documented in docs/plan.md): the
 * Plan compiled by the very functions the dispatcher uses — buildRun and compilePlan for the
 * stages, renderVersion for the version, allTriggers and releaseTargets for what the pipeline row
 * keeps — described stage by stage with each `when` decided for both statuses the way the builder
 * decides it (decideWhen), and every `estafette.secret(...)` value shown as `***`.
 */
import type { TriggerInfo } from '../events/types.ts';
import type { Plan, PlanService, PlanStage, Readiness } from '../plan/types.ts';
import { findSecrets } from '../secrets/secret.ts';
import { buildRun } from './build-run.ts';
import { compilePlan, type RunInfo } from './compile.ts';
import { releaseTargets, type ReleaseTarget } from './release-targets.ts';
import { allTriggers, type NormalizedAction, type NormalizedFilter } from './triggers.ts';
import type { Manifest } from './types.ts';
import type { RenderedVersion } from './version.ts';
import { decideWhen, type WhenStatus } from './when.ts';

/** The trigger events a preview can pretend started the run (ESTAFETTE_TRIGGER_EVENT, `trigger` in `when`). */
export const PREVIEW_EVENTS = ['git', 'pipeline', 'release', 'cron', 'manual'] as const;
export type PreviewEvent = (typeof PREVIEW_EVENTS)[number];
export const isPreviewEvent = (v: unknown): v is PreviewEvent => PREVIEW_EVENTS.includes(v as PreviewEvent);

/** What to preview: a build (default), a release to a target, or a bot run. */
export interface PreviewRequest {
  repoSource: string;
  repoOwner: string;
  repoName: string;
  branch: string;
  revision: string;
  /** The build counter ({{auto}}, ESTAFETTE_BUILD_VERSION_PATCH). */
  counter: number;
  event: PreviewEvent;
  /** Time of the run; default now. */
  datetime?: string;
  kind?: 'build' | 'release' | 'bot';
  /** Release target or bot name. */
  name?: string;
  action?: string;
}

/** Whether a stage or service would start after the stages before it succeeded / after one failed. */
export interface WouldRun {
  succeeded: boolean;
  failed: boolean;
  /** Set when the `when` cannot be evaluated (the stage would fail). */
  error?: string;
}

export interface ServicePreview {
  name: string;
  image: string;
  shell: string;
  commands: string[];
  runCommandsInForeground: boolean;
  when: string;
  wouldRun: WouldRun;
  multiStage: boolean;
  readiness?: Readiness;
  env: Record<string, string>;
  customProperties: Record<string, unknown>;
}

export interface StagePreview {
  name: string;
  /** Added by the compiler, not written in the manifest (git-clone). */
  injected: boolean;
  builtin?: string;
  /** True for a stage whose parallelStages run at the same time. */
  parallel: boolean;
  image: string;
  shell: string;
  workDir: string;
  commands: string[];
  runCommandsInForeground: boolean;
  when: string;
  wouldRun: WouldRun;
  retries: number;
  timeoutSeconds?: number;
  env: Record<string, string>;
  customProperties: Record<string, unknown>;
  parallelStages: StagePreview[];
  services: ServicePreview[];
}

export interface TriggerPreview {
  /** Whose trigger it is: the build, a release target or a bot. */
  scope: 'build' | 'release' | 'bot';
  /** The release target or bot it starts (absent for build triggers). */
  job?: string;
  /** Where it is written, e.g. `releases.production.triggers[0]`. */
  field: string;
  name?: string;
  filter: NormalizedFilter;
  action: NormalizedAction;
}

/** The whole preview (`estafette plan --json`). */
export interface PlanPreview {
  kind: 'build' | 'release' | 'bot';
  name?: string;
  action?: string;
  repository: string;
  branch: string;
  revision: string;
  counter: number;
  event: PreviewEvent;
  version: RenderedVersion;
  builder: Plan['builder'];
  labels: Record<string, string>;
  /** The run-wide ESTAFETTE_* variables (also inside every stage's env). */
  estafetteEnv: Record<string, string>;
  stages: StagePreview[];
  releaseTargets: ReleaseTarget[];
  bots: string[];
  triggers: TriggerPreview[];
}

/** The trigger of a previewed run: a push gives the fields the push path gives; others have none here. */
function previewTrigger(r: PreviewRequest): TriggerInfo {
  if (r.event !== 'git') return { event: r.event, fields: {} };
  return { event: 'git', fields: { EVENT: 'push', REPOSITORY: `${r.repoSource}/${r.repoOwner}/${r.repoName}`, BRANCH: r.branch, REVISION: r.revision } };
}

const decide = (plan: Plan, when: string, env: Record<string, string>): WouldRun => {
  const out = Object.fromEntries((['succeeded', 'failed'] as WhenStatus[]).map((s) => [s, decideWhen(plan, when, env, s)])) as Record<WhenStatus, boolean | string>;
  const error = [out.succeeded, out.failed].find((x) => typeof x === 'string');
  return { succeeded: out.succeeded === true, failed: out.failed === true, ...(typeof error === 'string' ? { error } : {}) };
};

function servicePreview(plan: Plan, s: PlanService): ServicePreview {
  return {
    name: s.name,
    image: s.image,
    shell: s.shell,
    commands: s.commands,
    runCommandsInForeground: s.runCommandsInForeground,
    when: s.when,
    wouldRun: decide(plan, s.when, s.env),
    multiStage: s.multiStage,
    ...(s.readiness ? { readiness: s.readiness } : {}),
    env: s.env,
    customProperties: s.customProperties,
  };
}

function stagePreview(plan: Plan, s: PlanStage): StagePreview {
  return {
    name: s.name,
    injected: s.injected === true,
    ...(s.builtin ? { builtin: s.builtin } : {}),
    parallel: s.parallelStages.length > 0,
    image: s.image,
    shell: s.shell,
    workDir: s.workDir,
    commands: s.commands,
    runCommandsInForeground: s.runCommandsInForeground,
    when: s.when,
    wouldRun: decide(plan, s.when, s.env),
    retries: s.retries,
    ...(s.timeoutSeconds !== undefined ? { timeoutSeconds: s.timeoutSeconds } : {}),
    env: s.env,
    customProperties: s.customProperties,
    parallelStages: s.parallelStages.map((c) => stagePreview(plan, c)),
    services: s.services.map((svc) => servicePreview(plan, svc)),
  };
}

/** Every `estafette.secret(...)` in every string of value replaced by `***`. */
function maskSecrets<T>(value: T): T {
  const deep = (v: unknown): unknown => {
    if (typeof v === 'string') return findSecrets(v).reduce((text, envelope) => text.split(envelope).join('***'), v);
    if (Array.isArray(v)) return v.map(deep);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]));
    return v;
  };
  return deep(value) as T;
}

/**
 * The preview of one run of a valid manifest. Throws ValidationError (from compilePlan) when the
 * request names a release, action or bot the manifest does not have.
 */
export function previewPlan(manifest: Manifest, r: PreviewRequest): PlanPreview {
  const kind = r.kind ?? 'build';
  const trigger = previewTrigger(r);
  const facts = {
    repoSource: r.repoSource,
    repoOwner: r.repoOwner,
    repoName: r.repoName,
    branch: r.branch,
    revision: r.revision,
    counter: r.counter,
    ...(r.datetime ? { datetime: r.datetime } : {}),
    trigger,
  };
  const build = buildRun(manifest, facts);
  // A release or bot run of this build: same version and counters, its own name and action.
  const run: RunInfo = kind === 'build' ? build : { ...build, kind, ...(r.name !== undefined ? { name: r.name } : {}), ...(r.action ? { action: r.action } : {}) };
  const plan = compilePlan(manifest, run);
  const preview: PlanPreview = {
    kind,
    ...(plan.name !== undefined ? { name: plan.name } : {}),
    ...(plan.action ? { action: plan.action } : {}),
    repository: `${r.repoSource}/${r.repoOwner}/${r.repoName}`,
    branch: r.branch,
    revision: r.revision,
    counter: r.counter,
    event: r.event,
    version: build.version,
    builder: plan.builder,
    labels: plan.labels,
    estafetteEnv: plan.estafetteEnv,
    stages: plan.stages.map((s) => stagePreview(plan, s)),
    releaseTargets: releaseTargets(manifest),
    bots: manifest.bots.map((b) => b.name),
    triggers: allTriggers(manifest).map(({ scope, field, trigger: t }) => ({
      scope: scope.kind,
      ...(scope.kind === 'release' ? { job: scope.release } : scope.kind === 'bot' ? { job: scope.bot } : {}),
      field,
      ...(t.name ? { name: t.name } : {}),
      filter: t.filter,
      action: t.action,
    })),
  };
  return maskSecrets(preview);
}
