/**
 * The JobRunner: how a build/release/bot run is started and stopped outside the functions.
 * Two implementations share one contract suite (test/integration/jobs/runner-contract.ts):
 * `kubernetes` (a Secret + batch/v1 Job through the API server) and `local` (the builder as a
 * child process). Contract:
 * - `start` is idempotent: starting a job that already exists (a redelivered event) succeeds
 *   without starting a second one.
 * - `cancel` is idempotent: canceling a job that is gone succeeds.
 * - `state` tells whether the job still runs, so housekeeping can fail builds whose job died.
 * Runners never interpret stage results: the builder reports those to log-ingest itself.
 */
import type { BuilderConfig } from '../plan/builder-config.ts';

/** Identifies one job: the run kind and its row id, plus the repo for naming. */
export interface JobRef {
  kind: 'build' | 'release' | 'bot';
  id: string;
  repoOwner: string;
  repoName: string;
}

const JOB_STATES = ['running', 'succeeded', 'failed', 'missing'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface JobRunner {
  readonly name: string;
  /** Starts the builder for `ref` with `config`; resolves once the job is accepted. */
  start(ref: JobRef, config: BuilderConfig): Promise<void>;
  /** Stops the job (SIGTERM to the builder, which reports `canceled`); no-op if it is gone. */
  cancel(ref: JobRef): Promise<void>;
  /** Where the job stands, as far as the runner knows. */
  state(ref: JobRef): Promise<JobState>;
  /** Every job's state in one call (kubernetes: one list), keyed `kind/id`; absent or undefined = ask per job. */
  states?(): Promise<Map<string, JobState> | undefined>;
  /** Releases resources held by the runner (local: stops running builders). */
  close(): Promise<void>;
}
