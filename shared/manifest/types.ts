/**
 * The YAML-facing vocabulary of `.estafette.yaml`: what a user wrote, after parsing, with the YAML
 * maps whose key is a name (stages, services, releases, release templates, bots) turned into
 * ordered arrays of named entries. Fields a user left out stay undefined here; defaults are applied
 * by `compile.ts` (and documented there) so lint can tell what was written. These types never reach
 * the builder: it only sees the Plan.
 */

/** One finding of parse or lint, with the dotted/indexed path of the field it is about. */
export interface Problem {
  /** e.g. `stages.build.image`, `triggers[0].cron.schedule`, `releases.production.stages.deploy.when`. */
  field: string;
  message: string;
  severity: 'error' | 'warning';
  /** 1-based position in the YAML text of the field (or of the nearest enclosing one that is written). */
  line?: number;
  column?: number;
  /** How to fix a classic mistake behind the problem (an unquoted `: ` in a command, a misspelt key). */
  hint?: string;
}

export const BUILDER_OS = ['linux', 'windows'] as const;
export type BuilderOs = (typeof BUILDER_OS)[number];
/**
 * The builder tracks Estafette accepts per operating system, the default first
 * (estafette-ci-manifest `manifest_preferences.go`).
 */
export const BUILDER_TRACKS: Readonly<Record<BuilderOs, readonly string[]>> = {
  linux: ['stable', 'beta', 'dev'],
  windows: ['nanoserver-1809-stable', 'nanoserver-1809-beta', 'nanoserver-1809-dev'],
};
export const BUILDER_TYPES = ['docker', 'kubernetes'] as const;
export const BUILDER_MEDIUMS = ['', 'memory'] as const;

/** `builder:` at the top, or in a release/bot/template (then it overrides the top one field by field). */
export interface ManifestBuilder {
  track?: string;
  os?: string;
  medium?: string;
  type?: string;
}

export interface ManifestSemverVersion {
  /**
   * Default 0. The parser keeps the decimal text of a number too large for a JavaScript number
   * (Estafette takes any Go int), so it renders as written; lint bounds it.
   */
  major?: number | string;
  /** Default 0; as major. */
  minor?: number | string;
  /** Template, default (also when empty) `{{auto}}`. */
  patch?: string;
  /** Template, default (also when empty) `{{branch}}`. */
  labelTemplate?: string;
  /** Branch patterns (anchored regexes) that get no label; default `master`, `main`. */
  releaseBranch?: string[];
}

export interface ManifestCustomVersion {
  /** Template, default (also when empty) `{{revision}}`. */
  labelTemplate?: string;
}

export interface ManifestVersion {
  semver?: ManifestSemverVersion;
  custom?: ManifestCustomVersion;
}

/** Legacy `readiness:` of a service. */
export interface ManifestReadiness {
  path?: string;
  port?: number;
  protocol?: string;
  hostname?: string;
  timeoutSeconds?: number;
}

/** `readinessProbe:` of a service (Kubernetes-like). */
export interface ManifestReadinessProbe {
  httpGet?: { path?: string; port?: number; host?: string; scheme?: string };
  exec?: { command?: string[] };
  timeoutSeconds?: number;
}

/** The keys a service understands; every other key is a custom property. */
export const SERVICE_KEYS = ['name', 'image', 'shell', 'commands', 'runCommandsInForeground', 'env', 'when', 'multiStage', 'readiness', 'readinessProbe'] as const;

/** A service container next to a stage. */
export interface ManifestService {
  name: string;
  image?: string;
  shell?: string;
  commands?: string[];
  runCommandsInForeground?: boolean;
  env?: Record<string, string>;
  when?: string;
  multiStage?: boolean;
  readiness?: ManifestReadiness;
  readinessProbe?: ManifestReadinessProbe;
  /** Every other key, for extensions. */
  customProperties: Record<string, unknown>;
}

/** The keys a stage understands; every other key is a custom property. */
export const STAGE_KEYS = ['image', 'shell', 'workDir', 'commands', 'runCommandsInForeground', 'when', 'env', 'parallelStages', 'services', 'retries', 'timeout'] as const;

/** A stage (or a parallel stage inside one). */
export interface ManifestStage {
  name: string;
  image?: string;
  shell?: string;
  workDir?: string;
  commands?: string[];
  runCommandsInForeground?: boolean;
  when?: string;
  env?: Record<string, string>;
  parallelStages?: ManifestStage[];
  services?: ManifestService[];
  /** Re-runs of a failed stage. */
  retries?: number;
  /** Duration such as `30s`, `10m`, `1h30m` (a bare number is seconds). */
  timeout?: string;
  /** Every other key, for extensions (ESTAFETTE_EXTENSION_*). */
  customProperties: Record<string, unknown>;
}

export interface PipelineTriggerFilter {
  event?: string;
  status?: string;
  name?: string;
  branch?: string;
}
export interface ReleaseTriggerFilter {
  event?: string;
  status?: string;
  name?: string;
  target?: string;
}
export interface GitTriggerFilter {
  event?: string;
  repository?: string;
  branch?: string;
}
export interface CronTriggerFilter {
  schedule?: string;
}
export interface PubSubTriggerFilter {
  project?: string;
  topic?: string;
}
export interface ForgeTriggerFilter {
  events?: string[];
  repository?: string;
}
export interface DockerTriggerFilter {
  event?: string;
  image?: string;
  tag?: string;
}

export interface BuildsAction {
  branch?: string;
}
export interface ReleasesAction {
  target?: string;
  action?: string;
  /** latest | same | current | an explicit version. */
  version?: string;
}
export interface RunsAction {
  bot?: string;
  branch?: string;
}

/** The filters a trigger can have; exactly one must be set. */
export const TRIGGER_FILTERS = ['pipeline', 'release', 'git', 'cron', 'pubsub', 'github', 'bitbucket', 'docker'] as const;
export type TriggerFilterKind = (typeof TRIGGER_FILTERS)[number];
/** The actions a trigger can have; at most one (the context supplies a default). */
export const TRIGGER_ACTIONS = ['builds', 'releases', 'runs'] as const;
export type TriggerActionKind = (typeof TRIGGER_ACTIONS)[number];

/** One entry of a `triggers:` list, as written. */
export interface ManifestTrigger {
  name?: string;
  pipeline?: PipelineTriggerFilter;
  release?: ReleaseTriggerFilter;
  git?: GitTriggerFilter;
  cron?: CronTriggerFilter;
  pubsub?: PubSubTriggerFilter;
  github?: ForgeTriggerFilter;
  bitbucket?: ForgeTriggerFilter;
  docker?: DockerTriggerFilter;
  builds?: BuildsAction;
  releases?: ReleasesAction;
  runs?: RunsAction;
}

export interface ManifestReleaseAction {
  name: string;
  hideBadge?: boolean;
}

/** A release target. */
export interface ManifestRelease {
  name: string;
  builder?: ManifestBuilder;
  clone?: boolean;
  actions?: ManifestReleaseAction[];
  triggers?: ManifestTrigger[];
  stages?: ManifestStage[];
  template?: string;
  /** How many releases of this target (per action) may run at once; default 1 (scheduling.ts). */
  concurrency?: number;
  /** Releases to this target wait for approval (scheduling.ts). */
  approval?: ManifestApproval;
}

/** A release template: fills what a release that names it leaves out. */
export interface ManifestReleaseTemplate {
  name: string;
  builder?: ManifestBuilder;
  clone?: boolean;
  actions?: ManifestReleaseAction[];
  triggers?: ManifestTrigger[];
  stages?: ManifestStage[];
}

export interface ManifestBot {
  name: string;
  builder?: ManifestBuilder;
  clone?: boolean;
  triggers?: ManifestTrigger[];
  stages?: ManifestStage[];
}

/** The top-level keys a manifest may have (`pipelines` is the legacy name of `stages`). */
export const MANIFEST_KEYS = [
  'archived',
  'builder',
  'labels',
  'version',
  'env',
  'triggers',
  'stages',
  'pipelines',
  'releases',
  'releaseTemplates',
  'bots',
  // Scheduling keys of this system (not Estafette's); Estafette ignores them.
  'concurrency',
  'paths',
  'ignorePaths',
] as const;

/** A whole `.estafette.yaml`. */
export interface Manifest {
  archived: boolean;
  builder: ManifestBuilder;
  labels: Record<string, string>;
  version: ManifestVersion;
  env: Record<string, string>;
  triggers: ManifestTrigger[];
  stages: ManifestStage[];
  /** Set when the stages are written under the legacy key `pipelines`, so findings name that path. */
  stagesKey?: 'pipelines';
  releases: ManifestRelease[];
  releaseTemplates: ManifestReleaseTemplate[];
  bots: ManifestBot[];
  /** Supersede and build concurrency (scheduling.ts). */
  concurrency?: ManifestConcurrency;
  /** A push changing none of these files builds nothing (globs; absent = every file counts). */
  paths?: string[];
  /** Files whose changes alone build nothing (globs). */
  ignorePaths?: string[];
}

/** Top-level `concurrency:` — how builds of this pipeline are scheduled. */
export interface ManifestConcurrency {
  /**
   * Cancel a branch's older pending/running builds when a push to it arrives: `true` (every
   * branch), `false` (none) or branch globs. Default: every branch but the release branch and main/master.
   */
  cancelSuperseded?: boolean | string[];
  /** At most this many builds of the pipeline run at once; the others queue, first come first served. */
  builds?: number;
  /** With `builds`: the limit counts per branch. */
  perBranch?: boolean;
}

/** `approval:` of a release target: who must approve before a release to it runs. */
export interface ManifestApproval {
  /** Distinct approvals needed (default 1). */
  required?: number;
  /** Users with one of these roles (or a higher one) may approve; default `operator` when no users/groups are given. */
  roles?: string[];
  /** Users (sign-in emails) who may approve. */
  users?: string[];
  /** Members of these identity-provider groups may approve. */
  groups?: string[];
  /** A release not approved within this duration (e.g. `24h`) is canceled. */
  expiresAfter?: string;
  /** The requester's own approval may complete the release (default false when someone else could approve). */
  allowRequester?: boolean;
}
