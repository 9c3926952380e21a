/**
 * Statuses of builds, releases and stages, and the legal transitions between them.
 * The database enforces the same transitions in SQL (`UPDATE … WHERE status IN (…)`);
 * this module is the single source of the table both use.
 */

/** Status of a build or release as a whole. */
export const JOB_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'canceling', 'canceled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const isJobStatus = (v: unknown): v is JobStatus => JOB_STATUSES.includes(v as JobStatus);

/** Final statuses: nothing moves out of them. */
export const FINAL_JOB_STATUSES = ['succeeded', 'failed', 'canceled'] as const satisfies readonly JobStatus[];
export const isFinalJobStatus = (s: JobStatus): boolean => (FINAL_JOB_STATUSES as readonly string[]).includes(s);

/**
 * For each target status, the statuses it may be reached from.
 * pending → running → succeeded | failed | canceling → canceled; pending → canceled.
 * A running build that receives its final report while canceling may still end failed/canceled.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  pending: [],
  running: ['pending'],
  succeeded: ['running'],
  failed: ['pending', 'running', 'canceling'],
  canceling: ['running'],
  canceled: ['pending', 'canceling'],
};

/** True when `from → to` is a legal transition. */
export const canTransition = (from: JobStatus, to: JobStatus): boolean => JOB_TRANSITIONS[to].includes(from);

/** Status of one stage (or service, or parallel child) within a build. */
export const STAGE_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'canceled'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];
export const isStageStatus = (v: unknown): v is StageStatus => STAGE_STATUSES.includes(v as StageStatus);
