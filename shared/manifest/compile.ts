/**
 * Step three of manifest handling: a linted Manifest plus the facts of one run (RunInfo) → the
 * Plan the dispatcher stores and the builder executes. This is where Estafette's defaults live
 * (shell, work dir, `when`, builder, readiness — an empty value means the default, as there), where
 * the `git-clone` stage is injected, where a
 * release template is applied, and where every stage's environment is resolved with Estafette's
 * precedence: ESTAFETTE_* < global env < stage env < extension vars. Secrets stay encrypted.
 */
import { dump } from 'js-yaml';
import { ValidationError } from '../errors/http-error.ts';
import type { TriggerInfo } from '../events/types.ts';
import type { Plan, PlanChanges, PlanKind, PlanService, PlanStage, Readiness } from '../plan/types.ts';
import { parseDurationSeconds } from './duration.ts';
import { BUILDER_TRACKS, type Manifest, type ManifestBuilder, type ManifestService, type ManifestStage } from './types.ts';
import { dnsSafe, type RenderedVersion } from './version.ts';

/** The default `when` of stages and services. */
const DEFAULT_WHEN = "status == 'succeeded'";
/** Image shown for the injected clone stage (the builder clones itself; see PlanStage.builtin). */
const GIT_CLONE_IMAGE = 'extensions/git-clone:stable';

/** The facts of one run that the manifest cannot know. */
export interface RunInfo {
  kind: PlanKind;
  /** Release target or bot name (required for release and bot runs). */
  name?: string;
  /** Release action, when the release has actions. */
  action?: string;
  repoSource: string;
  repoOwner: string;
  repoName: string;
  branch: string;
  revision: string;
  /** From renderVersion (for a release: the version being released). */
  version: RenderedVersion;
  buildId?: string;
  releaseId?: string;
  botId?: string;
  counters?: { current: number; max: number; maxCurrentBranch: number };
  /** Time of the run (any form Date parses; rendered to whole seconds, UTC); default now. */
  datetime?: string;
  ciServerBaseUrl?: string;
  /** Why the run started; becomes ESTAFETTE_TRIGGER_<EVENT>_<FIELD>. */
  trigger?: TriggerInfo;
  /** The tag a tag push builds (ESTAFETTE_GIT_TAG). */
  tag?: string;
  /** Who or what started a release (ESTAFETTE_RELEASE_TRIGGERED_BY). */
  triggeredBy?: string;
  /** Fields of the manifest's named triggers, by trigger name (ESTAFETTE_TRIGGER_<NAME>_<FIELD>). */
  namedTriggers?: Record<string, Record<string, string>>;
  /** What the push changed (for `changed(…)` in `when`); absent for runs without a before revision. */
  changes?: PlanChanges;
}

/** `app-group` → `APP_GROUP`, `versionTagSuffix` → `VERSION_TAG_SUFFIX`, `no-cache` → `NO_CACHE`. */
export function toUpperSnake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase();
}

/**
 * A time as Estafette writes ESTAFETTE_BUILD_DATETIME: RFC 3339 in UTC to the whole second
 * (`2026-01-02T03:04:05Z`, Go's time.RFC3339). Text that is not a time is kept as given.
 */
function buildDatetime(time: string | Date = new Date()): string {
  const d = typeof time === 'string' ? new Date(time) : time;
  if (Number.isNaN(d.getTime())) return String(time);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The ESTAFETTE_* variables of a run (without the per-stage STAGE_NAME / EXTENSION_*). */
function estafetteEnv(manifest: Manifest, run: RunInfo): Record<string, string> {
  const env: Record<string, string> = {
    ESTAFETTE_GIT_SOURCE: run.repoSource,
    ESTAFETTE_GIT_OWNER: run.repoOwner,
    ESTAFETTE_GIT_NAME: run.repoName,
    ESTAFETTE_GIT_FULLNAME: `${run.repoOwner}/${run.repoName}`,
    ESTAFETTE_GIT_BRANCH: run.branch,
    ESTAFETTE_GIT_BRANCH_DNS_SAFE: dnsSafe(run.branch),
    ESTAFETTE_GIT_REVISION: run.revision,
    ESTAFETTE_BUILD_VERSION: run.version.version,
    ESTAFETTE_BUILD_VERSION_MAJOR: run.version.major,
    ESTAFETTE_BUILD_VERSION_MINOR: run.version.minor,
    // Estafette sets the build counter here, not the rendered patch (they differ for `patch: 0`).
    ESTAFETTE_BUILD_VERSION_PATCH: run.counters ? String(run.counters.current) : run.version.patch,
    ESTAFETTE_BUILD_VERSION_LABEL: run.version.label,
    ESTAFETTE_BUILD_DATETIME: buildDatetime(run.datetime),
    // The builder flips this to 'failed' after a failing stage, as `status` in `when`.
    ESTAFETTE_BUILD_STATUS: 'succeeded',
    ESTAFETTE_CI_SERVER_BASE_URL: run.ciServerBaseUrl ?? '',
  };
  if (run.counters) {
    env.ESTAFETTE_BUILD_CURRENT_COUNTER = String(run.counters.current);
    env.ESTAFETTE_BUILD_MAX_COUNTER = String(run.counters.max);
    env.ESTAFETTE_BUILD_MAX_COUNTER_CURRENT_BRANCH = String(run.counters.maxCurrentBranch);
  }
  if (run.buildId !== undefined) env.ESTAFETTE_BUILD_ID = run.buildId;
  if (run.tag) env.ESTAFETTE_GIT_TAG = run.tag;
  if (run.kind === 'release') {
    env.ESTAFETTE_RELEASE_NAME = run.name ?? '';
    env.ESTAFETTE_RELEASE_ACTION = run.action ?? '';
    env.ESTAFETTE_RELEASE_ID = run.releaseId ?? '';
    env.ESTAFETTE_RELEASE_TRIGGERED_BY = run.triggeredBy ?? '';
  }
  if (run.kind === 'bot') {
    env.ESTAFETTE_BOT_NAME = run.name ?? '';
    env.ESTAFETTE_BOT_ID = run.botId ?? '';
  }
  for (const [k, v] of Object.entries(manifest.labels)) env[`ESTAFETTE_LABEL_${toUpperSnake(k)}`] = v;
  if (run.trigger) {
    // Also the value of the `trigger` parameter in `when` expressions.
    env.ESTAFETTE_TRIGGER_EVENT = run.trigger.event;
    const event = toUpperSnake(run.trigger.event);
    for (const [k, v] of Object.entries(run.trigger.fields)) env[`ESTAFETTE_TRIGGER_${event}_${toUpperSnake(k)}`] = v;
  }
  for (const [name, fields] of Object.entries(run.namedTriggers ?? {})) {
    for (const [k, v] of Object.entries(fields)) env[`ESTAFETTE_TRIGGER_${toUpperSnake(name)}_${toUpperSnake(k)}`] = v;
  }
  return env;
}

/**
 * ESTAFETTE_EXTENSION_* for a stage's custom properties: scalars by name, string lists
 * comma-joined, and the whole set as JSON and YAML for extensions with nested settings.
 */
export function extensionEnv(customProperties: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  const keys = Object.keys(customProperties);
  if (keys.length === 0) return env;
  for (const k of keys) {
    const v = customProperties[k];
    const name = `ESTAFETTE_EXTENSION_${toUpperSnake(k)}`;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') env[name] = String(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')) env[name] = v.join(',');
  }
  env.ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES = JSON.stringify(customProperties);
  env.ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES_YAML = dump(customProperties);
  return env;
}

/**
 * The builder of a run, as Estafette resolves it: a release's or bot's own `builder` section
 * replaces the top one as a whole (not field by field), and whatever it leaves out gets the
 * defaults — os linux, the first track of that os (`stable`, or `nanoserver-1809-stable` on
 * windows), type docker.
 */
function resolveBuilder(top: ManifestBuilder, own: ManifestBuilder | undefined): Plan['builder'] {
  const b = own ?? top;
  const os = b.os === 'windows' ? 'windows' : 'linux';
  return {
    track: b.track || BUILDER_TRACKS[os][0]!,
    os,
    medium: b.medium === 'memory' ? 'memory' : '',
    type: b.type === 'kubernetes' ? 'kubernetes' : 'docker',
  };
}

interface StageContext {
  estafette: Record<string, string>;
  globalEnv: Record<string, string>;
  shell: string;
  workDir: string;
}

function readiness(svc: ManifestService): Readiness | undefined {
  const p = svc.readinessProbe;
  // Estafette: a timeout of 0 (or none) means 60 s, port 0 means 80, and port 443 means https.
  if (p?.exec?.command?.length) return { kind: 'exec', command: p.exec.command, timeoutSeconds: p.timeoutSeconds || 60 };
  if (p?.httpGet) {
    const h = p.httpGet;
    const port = h.port || 80;
    return {
      kind: 'http',
      scheme: h.scheme === 'https' || (!h.scheme && port === 443) ? 'https' : 'http',
      host: h.host || svc.name,
      port,
      path: h.path || '/',
      timeoutSeconds: p.timeoutSeconds || 60,
    };
  }
  const r = svc.readiness;
  if (r) {
    const port = r.port || 80;
    return {
      kind: 'http',
      scheme: r.protocol === 'https' || (!r.protocol && port === 443) ? 'https' : 'http',
      host: r.hostname || svc.name,
      port,
      path: r.path || '/',
      timeoutSeconds: r.timeoutSeconds || 60,
    };
  }
  return undefined;
}

function compileService(svc: ManifestService, parent: ManifestStage, ctx: StageContext): PlanService {
  const out: PlanService = {
    name: svc.name,
    image: svc.image ?? '',
    shell: svc.shell || ctx.shell,
    commands: svc.commands ?? [],
    runCommandsInForeground: svc.runCommandsInForeground ?? false,
    env: {
      ...ctx.estafette,
      ESTAFETTE_SERVICE_NAME: svc.name,
      ...ctx.globalEnv,
      ...svc.env,
      ...extensionEnv(svc.customProperties),
    },
    when: svc.when?.trim() || DEFAULT_WHEN,
    // A services-only stage exists to start services for the stages after it.
    multiStage: svc.multiStage ?? !parent.image,
    customProperties: svc.customProperties,
  };
  const r = readiness(svc);
  if (r) out.readiness = r;
  return out;
}

function compileStage(s: ManifestStage, ctx: StageContext): PlanStage {
  const stage: PlanStage = {
    name: s.name,
    image: s.image ?? '',
    // Empty means the default, as in Estafette.
    shell: s.shell || ctx.shell,
    workDir: s.workDir || ctx.workDir,
    commands: s.commands ?? [],
    runCommandsInForeground: s.runCommandsInForeground ?? false,
    when: s.when?.trim() || DEFAULT_WHEN,
    env: {
      ...ctx.estafette,
      ESTAFETTE_STAGE_NAME: s.name,
      ...ctx.globalEnv,
      ...s.env,
      ...extensionEnv(s.customProperties),
    },
    retries: s.retries ?? 0,
    parallelStages: (s.parallelStages ?? []).map((p) => compileStage(p, ctx)),
    services: (s.services ?? []).map((svc) => compileService(svc, s, ctx)),
    customProperties: s.customProperties,
  };
  const timeout = s.timeout === undefined ? undefined : parseDurationSeconds(s.timeout);
  if (timeout !== undefined) stage.timeoutSeconds = Math.ceil(timeout);
  return stage;
}

function gitCloneStage(ctx: StageContext): PlanStage {
  return {
    name: 'git-clone',
    builtin: 'git-clone',
    injected: true,
    image: GIT_CLONE_IMAGE,
    shell: ctx.shell,
    workDir: ctx.workDir,
    commands: [],
    runCommandsInForeground: false,
    when: DEFAULT_WHEN,
    env: { ...ctx.estafette, ESTAFETTE_STAGE_NAME: 'git-clone', ...ctx.globalEnv },
    retries: 0,
    parallelStages: [],
    services: [],
    customProperties: {},
  };
}

/** What a run executes: its stages, builder override and whether it clones. */
function selectRun(manifest: Manifest, run: RunInfo): { stages: ManifestStage[]; builder?: ManifestBuilder; clone: boolean } {
  if (run.kind === 'build') return { stages: manifest.stages, clone: true };
  if (!run.name) throw new ValidationError(`a ${run.kind} run needs a name`);
  if (run.kind === 'bot') {
    const bot = manifest.bots.find((b) => b.name === run.name);
    if (!bot) throw new ValidationError(`bot '${run.name}' is not defined in the manifest`);
    return { stages: bot.stages ?? [], builder: bot.builder, clone: bot.clone ?? false };
  }
  const release = manifest.releases.find((r) => r.name === run.name);
  if (!release) throw new ValidationError(`release target '${run.name}' is not defined in the manifest`);
  const template = release.template === undefined ? undefined : manifest.releaseTemplates.find((t) => t.name === release.template);
  if (release.template !== undefined && !template) throw new ValidationError(`release template '${release.template}' is not defined in the manifest`);
  const actions = release.actions ?? template?.actions ?? [];
  if (run.action && !actions.some((a) => a.name === run.action)) {
    throw new ValidationError(`release target '${run.name}' has no action '${run.action}'`);
  }
  return {
    stages: release.stages ?? template?.stages ?? [],
    builder: release.builder ?? template?.builder,
    clone: release.clone ?? template?.clone ?? false,
  };
}

/**
 * Compiles the plan of one build, release or bot run. The manifest must have linted without
 * errors; throws ValidationError when the run names a release, action or bot the manifest lacks.
 */
export function compilePlan(manifest: Manifest, run: RunInfo): Plan {
  const selected = selectRun(manifest, run);
  const builder = resolveBuilder(manifest.builder, selected.builder);
  const windows = builder.os === 'windows';
  const estafette = estafetteEnv(manifest, run);
  const ctx: StageContext = {
    estafette,
    globalEnv: manifest.env,
    shell: windows ? 'powershell' : '/bin/sh',
    workDir: windows ? 'C:/estafette-work' : '/estafette-work',
  };
  const stages = selected.stages.map((s) => compileStage(s, ctx));
  if (selected.clone && !stages.some((s) => s.name === 'git-clone')) stages.unshift(gitCloneStage(ctx));
  const plan: Plan = {
    kind: run.kind,
    repoSource: run.repoSource,
    repoOwner: run.repoOwner,
    repoName: run.repoName,
    branch: run.branch,
    revision: run.revision,
    version: run.version.version,
    builder,
    labels: { ...manifest.labels },
    estafetteEnv: estafette,
    stages,
  };
  if (run.name !== undefined && run.kind !== 'build') plan.name = run.name;
  if (run.action) plan.action = run.action;
  if (run.changes) plan.changes = run.changes;
  return plan;
}
