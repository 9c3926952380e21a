/**
 * The Plan: what a build, release or bot run executes, compiled from a manifest plus run
 * metadata by `shared/manifest/compile.ts`. It is the only shape the dispatcher and the builder
 * use; the YAML-facing Manifest types never reach the builder. Everything here is plain JSON.
 */

/** What kind of run a plan is for. */
export const PLAN_KINDS = ['build', 'release', 'bot'] as const;
export type PlanKind = (typeof PLAN_KINDS)[number];

/** Stages that are not containers of the user but built-in steps of the builder. */
const BUILTIN_STAGES = ['git-clone'] as const;
export type BuiltinStage = (typeof BUILTIN_STAGES)[number];

/** How to decide that a service is ready. */
export type Readiness =
  | {
      kind: 'http';
      scheme: 'http' | 'https';
      /** Host to probe; defaults to the service name. */
      host: string;
      port: number;
      path: string;
      timeoutSeconds: number;
    }
  | { kind: 'exec'; command: string[]; timeoutSeconds: number };

/** A service container started before a stage and reachable by `name`. */
export interface PlanService {
  name: string;
  image: string;
  shell: string;
  commands: string[];
  runCommandsInForeground: boolean;
  /** Resolved env, precedence already applied; ESTAFETTE_SERVICE_NAME included. */
  env: Record<string, string>;
  when: string;
  /** True: lives until the last stage; false: stopped after its stage. */
  multiStage: boolean;
  readiness?: Readiness;
  customProperties: Record<string, unknown>;
}

/** One stage. A stage with parallelStages has no image/commands of its own. */
export interface PlanStage {
  name: string;
  /** Set for stages the builder performs itself (git-clone); image is then informational. */
  builtin?: BuiltinStage;
  /** True when the compiler added the stage (not in the user's manifest). */
  injected?: boolean;
  /** Empty for a parallel parent. `${ESTAFETTE_*}` may still appear; the builder expands it. */
  image: string;
  shell: string;
  workDir: string;
  /** Empty → the image's entrypoint runs (how extensions work). */
  commands: string[];
  runCommandsInForeground: boolean;
  /** govaluate-style expression; default `status == 'succeeded'`. */
  when: string;
  /** Resolved env: ESTAFETTE_* < global env < stage env < extension vars; ESTAFETTE_STAGE_NAME set. */
  env: Record<string, string>;
  /** Re-run a failed stage up to this many times (0 = once). */
  retries: number;
  /** Kill and fail the stage after this long; undefined = no limit. */
  timeoutSeconds?: number;
  parallelStages: PlanStage[];
  services: PlanService[];
  customProperties: Record<string, unknown>;
  /**
   * Set by a re-run of a failed build's failed stages on the top-level stages before the first
   * failed one: the builder does not run them again; their result is the earlier build's.
   */
  reusedFrom?: ReusedFrom;
}

/** The earlier build whose result a reused stage keeps. */
export interface ReusedFrom {
  buildId: string;
  buildNumber: number;
}

/** The compiled plan of one run. */
export interface Plan {
  kind: PlanKind;
  /** Release target or bot name; undefined for builds. */
  name?: string;
  action?: string;
  repoSource: string;
  repoOwner: string;
  repoName: string;
  branch: string;
  revision: string;
  version: string;
  builder: { track: string; os: 'linux' | 'windows'; medium: '' | 'memory'; type: 'docker' | 'kubernetes' };
  labels: Record<string, string>;
  /** The ESTAFETTE_* variables of the run (also merged into each stage's env). */
  estafetteEnv: Record<string, string>;
  stages: PlanStage[];
  /** What the push changed, for `changed(…)` in `when`; absent = unknown (everything counts as changed). */
  changes?: PlanChanges;
}

/**
 * The files a build's push changed. Dispatch fills `files` from the forge's payload (or a diff
 * it can make itself); when only `before` is known the builder diffs before..revision in its clone.
 */
export interface PlanChanges {
  /** The branch head before the push. */
  before?: string;
  /** Changed paths relative to the repository root. */
  files?: string[];
}
