/**
 * Queries of the `stage_runs` table: one row per (job, stage path, run) as reported by the
 * builder (shared/logs/protocol.ts StageReport). Upserts are idempotent and never move a stage
 * out of a final status, so a late or resent report cannot undo a result.
 */
import type { StageReport } from '../logs/protocol.ts';
import type { StageStatus } from '../status/status.ts';
import type { Db } from './pool.ts';

/** Whose stages: a build, a release or a bot run. */
export type JobKind = 'build' | 'release' | 'bot';

/** The API's Stage object (docs/API.md). */
export interface StageRun {
  stage: string;
  parent: string | null;
  kind: StageReport['kind'];
  run: number;
  status: StageStatus;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  message: string | null;
}

interface StageRow {
  stage: string;
  parent: string | null;
  kind: StageReport['kind'];
  run: number;
  status: StageStatus;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: string | null;
  message: string | null;
}

const FINAL_STAGE_STATUSES: readonly StageStatus[] = ['succeeded', 'failed', 'skipped', 'canceled'];
const FINAL_STAGE = `(${FINAL_STAGE_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/**
 * Inserts or updates the reported stage runs of a job in one statement. Timestamps, duration
 * and message keep their stored value when a report omits them; a final status is never
 * replaced by a non-final one.
 */
export async function upsertStageRuns(db: Db, kind: JobKind, jobId: string, reports: StageReport[]): Promise<void> {
  if (reports.length === 0) return;
  // Within one statement a row may be upserted only once: merge the reports per (stage, run),
  // later fields winning, absent fields keeping earlier values (as the upsert does across calls).
  const merged = new Map<string, { r: StageReport; i: number }>();
  reports.forEach((r, i) => {
    const key = `${r.stage}\u0000${r.run}`;
    const prev = merged.get(key);
    const defined = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as StageReport;
    if (prev && FINAL_STAGE_STATUSES.includes(prev.r.status) && !FINAL_STAGE_STATUSES.includes(r.status)) defined.status = prev.r.status;
    merged.set(key, prev ? { r: { ...prev.r, ...defined }, i: prev.i } : { r, i });
  });
  const params: unknown[] = [kind, jobId];
  const rows = [...merged.values()].map(({ r, i }) => {
    const at = params.length;
    params.push(r.stage, r.run, r.parent ?? null, r.kind, r.status, r.startedAt ?? null, r.finishedAt ?? null, r.durationMs ?? null, r.message ?? null, i);
    const p = (n: number) => `$${at + n}`;
    return `($1, $2::INT8, ${p(1)}, ${p(2)}::INT4, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}::TIMESTAMPTZ, ${p(7)}::TIMESTAMPTZ, ${p(8)}::INT8, ${p(9)}, ${p(10)}::INT4)`;
  });
  await db.query(
    `INSERT INTO stage_runs (job_kind, job_id, stage, run, parent, kind, status, started_at, finished_at, duration_ms, message, position)
     VALUES ${rows.join(', ')}
     ON CONFLICT (job_kind, job_id, stage, run) DO UPDATE SET
       status = CASE WHEN stage_runs.status IN ${FINAL_STAGE} AND excluded.status NOT IN ${FINAL_STAGE}
                     THEN stage_runs.status ELSE excluded.status END,
       parent = COALESCE(excluded.parent, stage_runs.parent),
       kind = excluded.kind,
       started_at = COALESCE(excluded.started_at, stage_runs.started_at),
       finished_at = COALESCE(excluded.finished_at, stage_runs.finished_at),
       duration_ms = COALESCE(excluded.duration_ms, stage_runs.duration_ms),
       message = COALESCE(excluded.message, stage_runs.message)`,
    params,
  );
}

/**
 * Ends the stage runs of a job that are still `running` or `pending` (its builder is gone and
 * will not report them) with `status`, now, and `message`; returns how many. A stage whose
 * timer would otherwise count forever gets its finish time and duration.
 */
export async function finishOpenStageRuns(db: Db, kind: JobKind, jobId: string, status: StageStatus, message: string): Promise<number> {
  const r = await db.query(
    `UPDATE stage_runs SET status = $3, finished_at = now(),
       duration_ms = CASE WHEN started_at IS NULL THEN NULL ELSE CAST(EXTRACT(EPOCH FROM (now() - started_at)) * 1000 AS INT8) END,
       message = COALESCE(message, $4)
     WHERE job_kind = $1 AND job_id = $2::INT8 AND status IN ('running', 'pending')`,
    [kind, jobId, status, message],
  );
  return r.rowCount ?? 0;
}

/**
 * The stage runs of a job: started ones by start time, then the others in the order of the report
 * that first named them. (NULLs are placed explicitly: the two databases sort them differently.)
 */
export async function listStageRuns(db: Db, kind: JobKind, jobId: string): Promise<StageRun[]> {
  const r = await db.query<StageRow>(
    `SELECT stage, parent, kind, run, status, started_at, finished_at, duration_ms, message FROM stage_runs
     WHERE job_kind = $1 AND job_id = $2 ORDER BY (started_at IS NULL), started_at, position, stage, run`,
    [kind, jobId],
  );
  return r.rows.map((s) => ({
    stage: s.stage,
    parent: s.parent,
    kind: s.kind,
    run: s.run,
    status: s.status,
    startedAt: s.started_at?.toISOString() ?? null,
    finishedAt: s.finished_at?.toISOString() ?? null,
    durationMs: s.duration_ms === null ? null : Number(s.duration_ms),
    message: s.message,
  }));
}
