/**
 * BuilderConfig: everything the builder program needs, written by the job runner to the file
 * named by BUILDER_CONFIG_PATH: a Kubernetes Secret mounted only into the builder container, or
 * locally a private file outside any work dir that the builder reads once and removes. It holds
 * the job token, credentials and the decrypted values of the plan's secrets — never the master
 * secret key, which stays in build-dispatch (shared/secrets/plan-secrets.ts).
 */
import type { JobSecrets } from '../secrets/plan-secrets.ts';
import type { Plan } from './types.ts';

export const EXECUTOR_NAMES = ['host', 'docker'] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];
export const isExecutorName = (v: unknown): v is ExecutorName => EXECUTOR_NAMES.includes(v as ExecutorName);

export interface BuilderConfig {
  /** 'build' | 'release' | 'bot' and the row id the reports are about. */
  job: { kind: 'build' | 'release' | 'bot'; id: string };
  plan: Plan;
  git: {
    /** Clone URL: https://…, ssh, file:// or a local path. */
    cloneUrl: string;
    branch: string;
    revision: string;
    /** False when the working tree is already in place (estafette run, releases without clone). */
    clone: boolean;
  };
  /** Where logs and status go (log-ingest base URL, e.g. http://log-ingest) and the job token. */
  ingest: { url: string; token: string };
  executor: ExecutorName;
  /** Host directory used as the work dir (mounted at each stage's workDir by the docker executor). */
  workDir: string;
  /** The values of the plan's `estafette.secret(...)` envelopes, opened by build-dispatch; never logged. */
  secrets?: JobSecrets;
  /** Credentials for the forge/registries, by type; secret values, never logged. */
  credentials?: Array<{ name: string; type: string; values: Record<string, string> }>;
  /**
   * W3C traceparent of the dispatch that started this job: the builder's spans, log lines and
   * reports (`traceparent` header) continue that trace, so a push and its build share one trace id.
   */
  traceparent?: string;
  /** Grace period before a SIGTERM'd stage is killed. */
  cancelGraceSeconds?: number;
  /** Seconds without any report after which the builder sends a heartbeat (default 10). */
  heartbeatSeconds?: number;
  /**
   * A directory the builder removes when it ends (the local runner's per-job temp dir), so it
   * goes also when the process that started the builder is gone. Never the working tree of
   * `estafette run`.
   */
  removeOnExit?: string;
}
