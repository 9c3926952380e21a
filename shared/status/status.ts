/**
 * Statuses of builds, releases and stages, and the legal transitions between them.
 * The database enforces the same transitions in SQL (`UPDATE … WHERE status IN (…)`);
 * this module is the single source of the table both use.
 */

/** Status of a build or release as a whole. */
export const JOB_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'canceling', 'canceled', 'queued', 'awaiting-approval'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const isJobStatus = (v: unknown): v is JobStatus => JOB_STATUSES.includes(v as JobStatus);

/** Final statuses: nothing moves out of them. */
export const FINAL_JOB_STATUSES = ['succeeded', 'failed', 'canceled'] as const satisfies readonly JobStatus[];
export const isFinalJobStatus = (s: JobStatus): boolean => (FINAL_JOB_STATUSES as readonly string[]).includes(s);

/**
 * Statuses of a job that waits for the scheduler (shared/db/queue.ts): `queued` for a free
 * concurrency slot, `awaiting-approval` (releases) for enough approvals. Neither has a Job yet.
 */
const WAITING_JOB_STATUSES = ['queued', 'awaiting-approval'] as const satisfies readonly JobStatus[];
export const isWaitingJobStatus = (s: JobStatus): boolean => (WAITING_JOB_STATUSES as readonly string[]).includes(s);

/**
 * For each target status, the statuses it may be reached from.
 * pending → running → succeeded | failed | canceling → canceled; pending → canceled.
 * Scheduling comes first: awaiting-approval → queued → pending (admitted, its Job starts);
 * a waiting job may be canceled (superseded, rejected, expired) or failed without running.
 * A running build that receives its final report while canceling may still end failed/canceled.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  'awaiting-approval': [],
  queued: ['awaiting-approval'],
  pending: ['queued'],
  running: ['pending'],
  succeeded: ['running'],
  failed: ['pending', 'running', 'canceling', 'queued', 'awaiting-approval'],
  canceling: ['running'],
  canceled: ['pending', 'canceling', 'queued', 'awaiting-approval'],
};

/** True when `from → to` is a legal transition. */
export const canTransition = (from: JobStatus, to: JobStatus): boolean => JOB_TRANSITIONS[to].includes(from);

/** Status of one stage (or service, or parallel child) within a build. */
const STAGE_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'canceled'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];
export const isStageStatus = (v: unknown): v is StageStatus => STAGE_STATUSES.includes(v as StageStatus);
