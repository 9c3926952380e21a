/**
 * BuilderConfig: everything the builder program needs, written by the job runner to the file
 * named by BUILDER_CONFIG_PATH (a Secret mounted in the Job, or a temp file locally).
 */
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
  /** Base64 32-byte AES key for estafette.secret(...) values; absent → secrets left encrypted. */
  secretKey?: string;
  /** Credentials for the forge/registries, by type; secret values, never logged. */
  credentials?: Array<{ name: string; type: string; values: Record<string, string> }>;
  /** Grace period before a SIGTERM'd stage is killed. */
  cancelGraceSeconds?: number;
}
