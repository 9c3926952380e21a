/**
 * The one interface behind which a build's stages run: `host` (child processes, for local mode
 * and tests) and `docker` (containers through the Docker Engine API). The orchestration in
 * run-build.ts never knows which one it drives; both pass test/builder/executor-suite.ts.
 *
 * Contract (order, concurrency, idempotency):
 * - Order: `setup` once, then any number of `startService` / `runStage` / `probeService` /
 *   `stopService` calls, then `destroy` once — always, in a `finally`, also after a failed or
 *   canceled build.
 * - Concurrency: `runStage` and `startService` may be called concurrently (parallel stages);
 *   an executor keeps no per-stage state outside the handles it returns.
 * - A failed stage is a result, not an exception: a non-zero exit, a missing image or a command
 *   that cannot start resolve to a StageResult with `exitCode !== 0` and a `message`. Only a
 *   broken executor (engine gone) rejects.
 * - Abort: when `signal` aborts, the stage's whole process tree / container is sent SIGTERM and,
 *   after `graceMs`, killed; `runStage` then resolves with `aborted: true`.
 * - Idempotency: `stopService` on a stopped service and `destroy` after a failed `setup` (or
 *   twice) are safe no-ops for what no longer exists.
 * - Output: every line of stdout/stderr is passed to `onLine` with its stream, in order per
 *   stream. When `onLine` returns a promise the executor stops reading that output until it
 *   settles (backpressure, so a stage printing millions of lines keeps memory flat).
 */
import type { LogStream } from '../../shared/logs/protocol.ts';
import type { Readiness } from '../../shared/plan/types.ts';

/** What an executor needs to know about the build as a whole. */
export interface BuildInfo {
  /** Job kind and id, used for names and labels. */
  kind: 'build' | 'release' | 'bot';
  jobId: string;
  /** `source/owner/repo`, for labels. */
  pipeline: string;
  /** Host directory holding the working tree (mounted at each stage's workDir by docker). */
  workDir: string;
}

/** Receives one line of output; a returned promise pauses reading until it settles. */
export type LineSink = (stream: LogStream, text: string) => void | Promise<void>;

/**
 * One stage (or parallel child) ready to run: env resolved with `${ESTAFETTE_*}` expanded in its
 * values and the image; commands raw (the shell expands them from `env`, so no value is ever in
 * a command line). `env` is everything the stage gets besides the executor's minimal base.
 */
export interface StageSpec {
  /** Stage path (`build`, `parent/child`), for names and labels. */
  path: string;
  image: string;
  shell: string;
  /** Where the working tree is inside the stage (containers); the host executor uses BuildInfo.workDir. */
  workDir: string;
  commands: string[];
  env: Record<string, string>;
}

/** A service to start before a stage. */
export interface ServiceSpec {
  /** `stage/service-name`. */
  path: string;
  /** Container and DNS name. */
  name: string;
  image: string;
  shell: string;
  commands: string[];
  env: Record<string, string>;
}

/** How to run one stage. */
export interface RunOptions {
  onLine: LineSink;
  signal: AbortSignal;
  /** Time between SIGTERM and SIGKILL after `signal` aborts. */
  graceMs: number;
}

/** The outcome of one stage run. */
export interface StageResult {
  /** Process/container exit code; non-zero also when the stage could not start. */
  exitCode: number;
  /** True when the run ended because `signal` aborted. */
  aborted: boolean;
  /** Why it failed when not obvious from the exit code (e.g. "image x not found"). */
  message?: string;
}

/** An opaque handle to a started service. */
export interface ServiceHandle {
  readonly spec: ServiceSpec;
  /** Resolves when the service's process/container has ended (for any reason). */
  readonly exited: Promise<void>;
}

export interface Executor {
  readonly name: string;
  /** Prepares per-build resources (docker: the network). */
  setup(build: BuildInfo): Promise<void>;
  /** Runs one stage to completion; see the contract above. */
  runStage(stage: StageSpec, options: RunOptions): Promise<StageResult>;
  /** Starts a service in the background; resolves once it is started, not once it is ready. */
  startService(service: ServiceSpec, onLine: LineSink): Promise<ServiceHandle>;
  /** One readiness probe: true when the service answers as `readiness` asks. Never throws. */
  probeService(handle: ServiceHandle, readiness: Readiness): Promise<boolean>;
  /** Stops a service and everything it started. Idempotent. */
  stopService(handle: ServiceHandle, graceMs: number): Promise<void>;
  /** Removes everything the build created. Idempotent; safe after a failed setup. */
  destroy(): Promise<void>;
}
