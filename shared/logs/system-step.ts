/**
 * Steps the system writes into a job's log itself — `validate-manifest` when a manifest is
 * invalid, `reconcile` when a job died without reporting — as a failed stage with its lines.
 * Only written while no builder runs for the job, so taking the next seq after the stored
 * maximum cannot collide with a builder's lines.
 */
import type { Db } from '../db/pool.ts';
import { appendLogLines, nextSystemLogSeq } from '../db/logs.ts';
import { upsertStageRuns, type JobKind } from '../db/stages.ts';
import type { StageStatus } from '../status/status.ts';

/**
 * Appends a stage named `stage` with `lines` (stderr) and the given status to a job's log, as run
 * `run` of it (a step the system retries, like `fetch-manifest`, shows each attempt as a run).
 */
export async function writeSystemStep(db: Db, kind: JobKind, jobId: string, stage: string, lines: string[], status: StageStatus = 'failed', run = 1): Promise<void> {
  const now = new Date().toISOString();
  const first = await nextSystemLogSeq(db, kind, jobId);
  await appendLogLines(
    db,
    kind,
    jobId,
    lines.map((text, i) => ({ stage, run, seq: first + i, time: now, stream: 'stderr' as const, text })),
  );
  await upsertStageRuns(db, kind, jobId, [{ stage, run, kind: 'builtin', status, startedAt: now, finishedAt: now, durationMs: 0, message: lines[0] }]);
}
