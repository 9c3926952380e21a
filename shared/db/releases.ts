/**
 * Queries of the `releases` table: a release deploys a built version of a pipeline to a named
 * target (optionally with an action). Its status moves along the same JOB_TRANSITIONS as builds.
 */
import type pg from 'pg';
import type { RepoRef, TriggerInfo } from '../events/types.ts';
import type { Plan } from '../plan/types.ts';
import type { JobStatus } from '../status/status.ts';
import type { ApprovalRule } from '../manifest/scheduling.ts';
import { transitionParams, transitionSql, type TransitionExtra } from './builds.ts';
import { IllegalTransitionError, NotFoundError } from './errors.ts';
import { newId } from './ids.ts';
import { pageWindow, toPage, Where, orderBy, type Page, type PageRequest, type SortField } from './page.ts';
import { sqlState, withTransaction, type Db } from './pool.ts';

/** The API's Release object (docs/API.md). `duration` is in seconds. */
export interface Release extends RepoRef {
  id: string;
  pipelineId: string;
  /** Release target. */
  name: string;
  /** Release action, '' when the target has none. */
  action: string;
  releaseVersion: string;
  releaseStatus: JobStatus;
  /** Why it has this status, when the system decided it (rejected, approval expired, target busy); '' otherwise. */
  statusReason: string;
  /** For a `queued` release: 1 + the queued releases of its target and action ahead of it. */
  queuePosition?: number;
  /** The approval it needs (its target's rule), or null. */
  approval: ApprovalRule | null;
  /** When an unapproved release is canceled, or null. */
  approvalDeadline: string | null;
  /** `manual`, a user, or `trigger`. */
  triggeredBy: string;
  trigger: TriggerInfo | null;
  /** The build of the released version. */
  buildId: string | null;
  chainDepth: number;
  eventId: string | null;
  insertedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  duration: number | null;
}

interface ReleaseRow {
  id: string;
  pipeline_id: string;
  repo_source: string;
  repo_owner: string;
  repo_name: string;
  name: string;
  action: string;
  version: string;
  status: JobStatus;
  status_reason: string;
  approval: ApprovalRule | null;
  approval_deadline: Date | null;
  triggered_by: string;
  trigger: TriggerInfo | null;
  build_id: string | null;
  chain_depth: number;
  event_id: string | null;
  inserted_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
  duration_ms: string | null;
}

const COLUMNS = `id, pipeline_id, repo_source, repo_owner, repo_name, name, action, version, status, status_reason, approval, approval_deadline, triggered_by, trigger,
  build_id, chain_depth, event_id, inserted_at, started_at, finished_at, updated_at, duration_ms`;

function toRelease(r: ReleaseRow): Release {
  return {
    id: r.id,
    pipelineId: r.pipeline_id,
    repoSource: r.repo_source,
    repoOwner: r.repo_owner,
    repoName: r.repo_name,
    name: r.name,
    action: r.action,
    releaseVersion: r.version,
    releaseStatus: r.status,
    statusReason: r.status_reason,
    approval: r.approval,
    approvalDeadline: r.approval_deadline?.toISOString() ?? null,
    triggeredBy: r.triggered_by,
    trigger: r.trigger,
    buildId: r.build_id,
    chainDepth: r.chain_depth,
    eventId: r.event_id,
    insertedAt: r.inserted_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    finishedAt: r.finished_at?.toISOString() ?? null,
    updatedAt: r.updated_at.toISOString(),
    duration: r.duration_ms === null ? null : Number(r.duration_ms) / 1000,
  };
}

/** What createRelease inserts. */
export interface ReleaseInput extends RepoRef {
  pipelineId: string;
  name: string;
  action?: string;
  version: string;
  /**
   * Initial status (default pending; `failed` when the request is refused after validation,
   * `queued` when it waits for its target, `awaiting-approval` when it needs approval first).
   */
  status?: 'pending' | 'failed' | 'queued' | 'awaiting-approval';
  /** Why the initial status (a refusal's reason). */
  statusReason?: string;
  /** At most this many active releases of its target and action (the queue it waits in). */
  queueLimit?: number;
  approval?: ApprovalRule;
  approvalDeadline?: Date;
  triggeredBy?: string;
  trigger?: TriggerInfo | null;
  buildId?: string | null;
  plan?: Plan | null;
  chainDepth?: number;
  /** Id of the requesting event: a repeat returns the release created the first time. */
  eventId?: string;
}

/** The release created by event `eventId`, or null. */
export async function getReleaseByEvent(db: Db, eventId: string): Promise<Release | null> {
  const r = await db.query<ReleaseRow>(`SELECT ${COLUMNS} FROM releases WHERE event_id = $1`, [eventId]);
  return r.rows[0] ? toRelease(r.rows[0]) : null;
}

/** Inserts a release inside the caller's transaction; returns the existing one when `eventId` was used. */
async function insertRelease(tx: Db, input: ReleaseInput): Promise<{ release: Release; created: boolean }> {
  if (input.eventId) {
    const existing = await getReleaseByEvent(tx, input.eventId);
    if (existing) return { release: existing, created: false };
  }
  const r = await tx.query<ReleaseRow>(
    `INSERT INTO releases (id, pipeline_id, repo_source, repo_owner, repo_name, name, action, version, status, triggered_by,
       trigger, build_id, plan, chain_depth, event_id, finished_at, duration_ms, status_reason, queue_limit, approval, approval_deadline)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::TEXT, $10, $11, $12, $13, $14, $15,
       CASE WHEN $9::TEXT = 'failed' THEN now() END, CASE WHEN $9::TEXT = 'failed' THEN 0 END, $16, $17, $18, $19)
     RETURNING ${COLUMNS}`,
    [
      newId(),
      input.pipelineId,
      input.repoSource,
      input.repoOwner,
      input.repoName,
      input.name,
      input.action ?? '',
      input.version,
      input.status ?? 'pending',
      input.triggeredBy ?? '',
      input.trigger == null ? null : JSON.stringify(input.trigger),
      input.buildId ?? null,
      input.plan == null ? null : JSON.stringify(input.plan),
      input.chainDepth ?? 0,
      input.eventId ?? null,
      input.statusReason ?? '',
      input.queueLimit ?? null,
      input.approval ? JSON.stringify(input.approval) : null,
      input.approvalDeadline ?? null,
    ],
  );
  return { release: toRelease(r.rows[0]!), created: true };
}

/** Inserts a release and returns it; idempotent per `eventId` (check `created`). */
export async function createRelease(pool: pg.Pool, input: ReleaseInput): Promise<{ release: Release; created: boolean }> {
  try {
    return await withTransaction(pool, (tx) => insertRelease(tx, input));
  } catch (err) {
    if (input.eventId && sqlState(err) === '23505') {
      const existing = await getReleaseByEvent(pool, input.eventId);
      if (existing) return { release: existing, created: false };
    }
    throw err;
  }
}

/** The release with this id, or null. */
export async function getRelease(db: Db, id: string): Promise<Release | null> {
  const r = await db.query<ReleaseRow>(`SELECT ${COLUMNS} FROM releases WHERE id = $1`, [id]);
  return r.rows[0] ? (await withReleaseQueuePositions(db, [toRelease(r.rows[0])]))[0]! : null;
}

/** The status of a release alone (one primary-key read, for log-ingest's per-batch check), or null when there is no such release. */
export async function getReleaseStatus(db: Db, id: string): Promise<JobStatus | null> {
  const r = await db.query<{ status: JobStatus }>('SELECT status FROM releases WHERE id = $1', [id]);
  return r.rows[0]?.status ?? null;
}

/** The release with this id, its row locked until the caller's transaction ends (decisions on it queue up), or null. */
export async function getReleaseForUpdate(tx: Db, id: string): Promise<Release | null> {
  const r = await tx.query<ReleaseRow>(`SELECT ${COLUMNS} FROM releases WHERE id = $1 FOR UPDATE`, [id]);
  return r.rows[0] ? toRelease(r.rows[0]) : null;
}

/** The plan stored with a release, or null. */
export async function getReleasePlan(db: Db, id: string): Promise<Plan | null> {
  const r = await db.query<{ plan: Plan | null }>('SELECT plan FROM releases WHERE id = $1', [id]);
  return r.rows[0]?.plan ?? null;
}

/** Stores the compiled plan of a release. */
export async function setReleasePlan(db: Db, id: string, plan: Plan): Promise<void> {
  const r = await db.query('UPDATE releases SET plan = $2, updated_at = now() WHERE id = $1', [id, JSON.stringify(plan)]);
  if (r.rowCount === 0) throw new NotFoundError(`release ${id}`);
}

/** Filters of release lists, already parsed. */
export interface ReleaseFilter extends PageRequest {
  pipelineId?: string;
  /** Release target name. */
  target?: string;
  statuses?: JobStatus[];
  since?: Date;
  /** An explicit order (columns of the releases table); default newest first. */
  order?: SortField[];
}

/** One page of releases, newest first. */
export async function listReleases(db: Db, filter: ReleaseFilter = {}): Promise<Page<Release>> {
  const { page, size, offset } = pageWindow(filter);
  const w = new Where();
  if (filter.pipelineId) w.add('pipeline_id = $?', filter.pipelineId);
  if (filter.target !== undefined) w.add('name = $?', filter.target);
  if (filter.statuses?.length) w.add('status = ANY($?::TEXT[])', filter.statuses);
  if (filter.since) w.add('inserted_at >= $?', filter.since);
  const count = await db.query<{ n: string }>(`SELECT count(*) AS n FROM releases ${w}`, [...w.params]);
  const rows = await db.query<ReleaseRow>(`SELECT ${COLUMNS} FROM releases ${w} ORDER BY ${orderBy(filter.order, 'inserted_at DESC, id DESC')} LIMIT ${w.param(size)} OFFSET ${w.param(offset)}`, w.params);
  return toPage(await withReleaseQueuePositions(db, rows.rows.map(toRelease)), page, size, Number(count.rows[0]!.n));
}

/**
 * The newest release of every (target, action) of the given pipelines — the "active release"
 * tiles. Ordered by pipeline, target, action.
 */
export async function latestReleasesPerTarget(db: Db, pipelineIds: string[]): Promise<Release[]> {
  if (pipelineIds.length === 0) return [];
  const r = await db.query<ReleaseRow>(
    `SELECT ${COLUMNS} FROM (
       SELECT *, row_number() OVER (PARTITION BY pipeline_id, name, action ORDER BY inserted_at DESC, id DESC) AS rn
       FROM releases WHERE pipeline_id = ANY($1::INT8[])
     ) AS ranked WHERE rn = 1 ORDER BY pipeline_id, name, action`,
    [pipelineIds],
  );
  return r.rows.map(toRelease);
}

/** Releases in `statuses` (of pending, running, canceling) not updated since `updatedBefore`, oldest first (for the reconciler). */
export async function listStaleReleases(db: Db, statuses: readonly JobStatus[], updatedBefore: Date, limit = 100): Promise<Release[]> {
  const r = await db.query<ReleaseRow>(
    `SELECT ${COLUMNS} FROM releases WHERE status IN ('pending', 'running', 'canceling') AND status = ANY($1::TEXT[])
       AND GREATEST(COALESCE(heartbeat_at, updated_at), updated_at) < $2 ORDER BY updated_at LIMIT $3`,
    [statuses, updatedBefore, limit],
  );
  return r.rows.map(toRelease);
}

/**
 * Moves a release to `to` if JOB_TRANSITIONS allows it; a repeat of the current status is a
 * no-op. Throws IllegalTransitionError (nothing changed) or NotFoundError.
 */
export async function transitionReleaseStatus(pool: pg.Pool, id: string, to: JobStatus, extra: TransitionExtra = {}): Promise<Release> {
  return withTransaction(pool, (tx) => transitionReleaseStatusIn(tx, id, to, extra));
}

/** transitionReleaseStatus inside the caller's transaction `tx`. */
export async function transitionReleaseStatusIn(tx: Db, id: string, to: JobStatus, extra: TransitionExtra = {}): Promise<Release> {
  const r = await tx.query<ReleaseRow>(transitionSql('releases', COLUMNS), transitionParams(id, to, extra));
  if (r.rows[0]) return toRelease(r.rows[0]);
  const current = await getRelease(tx, id);
  if (!current) throw new NotFoundError(`release ${id}`);
  if (current.releaseStatus === to) return current;
  throw new IllegalTransitionError(`release ${id}`, current.releaseStatus, to);
}

/** A waiting release as admission sees it. */
export interface WaitingRelease {
  id: string;
  pipelineId: string;
  name: string;
  action: string;
  status: 'queued' | 'awaiting-approval';
  queueLimit: number;
  approvalDeadline: Date | null;
}

/** The oldest `max` queued releases that have a plan, first come first. */
export async function listQueuedReleases(db: Db, max: number): Promise<WaitingRelease[]> {
  return waiting(db, "status = 'queued' AND plan IS NOT NULL", [max]);
}

/** Releases awaiting approval whose deadline is before `now`. */
export async function listExpiredApprovals(db: Db, now: Date, max = 100): Promise<WaitingRelease[]> {
  return waiting(db, "status = 'awaiting-approval' AND approval_deadline < $2", [max, now]);
}

async function waiting(db: Db, where: string, params: unknown[]): Promise<WaitingRelease[]> {
  const r = await db.query<{ id: string; pipeline_id: string; name: string; action: string; status: 'queued' | 'awaiting-approval'; queue_limit: number | null; approval_deadline: Date | null }>(
    `SELECT id, pipeline_id, name, action, status, queue_limit, approval_deadline FROM releases
     WHERE status IN ('queued', 'awaiting-approval') AND ${where} ORDER BY inserted_at, id LIMIT $1`,
    params,
  );
  return r.rows.map((x) => ({ id: x.id, pipelineId: x.pipeline_id, name: x.name, action: x.action, status: x.status, queueLimit: x.queue_limit ?? 1, approvalDeadline: x.approval_deadline }));
}

/** Active (pending, running, canceling) releases of one target and action. */
export async function countActiveReleases(db: Db, target: { pipelineId: string; name: string; action: string }): Promise<number> {
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM releases WHERE status IN ('pending', 'running', 'canceling') AND pipeline_id = $1 AND name = $2 AND action = $3`, [
    target.pipelineId,
    target.name,
    target.action,
  ]);
  return Number(r.rows[0]!.n);
}

/** Sets `queuePosition` on the queued releases among `releases` (one query, only when there are any). */
async function withReleaseQueuePositions(db: Db, releases: Release[]): Promise<Release[]> {
  const ids = releases.filter((x) => x.releaseStatus === 'queued').map((x) => x.id);
  if (ids.length === 0) return releases;
  const r = await db.query<{ id: string; ahead: string }>(
    `SELECT me.id, (SELECT count(*) FROM releases q WHERE q.status = 'queued' AND (q.inserted_at, q.id) < (me.inserted_at, me.id)
         AND q.pipeline_id = me.pipeline_id AND q.name = me.name AND q.action = me.action) AS ahead
     FROM releases me WHERE me.id = ANY($1::INT8[]) AND me.status = 'queued'`,
    [ids],
  );
  const ahead = new Map(r.rows.map((x) => [x.id, Number(x.ahead)]));
  for (const x of releases) if (ahead.has(x.id)) x.queuePosition = ahead.get(x.id)! + 1;
  return releases;
}

/** How many releases match `filter` (the stats count route). */
export async function countReleases(db: Db, filter: ReleaseFilter = {}): Promise<number> {
  return (await listReleases(db, { ...filter, page: 1, size: 1 })).pagination.totalItems;
}

/**
 * Per (target, action) of a pipeline: succeeded releases — those finished at or after `since`
 * when given, all time otherwise — the last one's finish time and the median lead time in
 * seconds from the released build's insert to the release's finish.
 */
export async function releaseStats(db: Db, pipelineId: string, since?: Date): Promise<{ name: string; action: string; count: number; lastReleasedAt: string | null; medianLeadTimeSeconds: number | null }[]> {
  const r = await db.query<{ name: string; action: string; count: string; last: Date | null; median: number | null }>(
    `SELECT r.name, r.action, count(*) AS count, max(r.finished_at) AS last,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (r.finished_at - b.inserted_at))) AS median
     FROM releases r LEFT JOIN builds b ON b.id = r.build_id
     WHERE r.pipeline_id = $1 AND r.status = 'succeeded' AND ($2::TIMESTAMPTZ IS NULL OR r.finished_at >= $2::TIMESTAMPTZ)
     GROUP BY r.name, r.action ORDER BY r.name, r.action`,
    [pipelineId, since ?? null],
  );
  return r.rows.map((s) => ({
    name: s.name,
    action: s.action,
    count: Number(s.count),
    lastReleasedAt: s.last?.toISOString() ?? null,
    medianLeadTimeSeconds: s.median === null ? null : Math.round(Number(s.median) * 1000) / 1000,
  }));
}

/**
 * Durations of a pipeline's latest `last` releases (only those of `statuses` when given), newest
 * first (Estafette's release durations chart): target, action, `pendingDuration` from insert to
 * start and `duration` from start to finish, in seconds.
 */
export async function releaseDurations(
  db: Db,
  pipelineId: string,
  last: number,
  statuses?: JobStatus[],
): Promise<{ id: string; name: string; action: string; releaseVersion: string; releaseStatus: JobStatus; insertedAt: string; pendingDuration: number | null; duration: number | null }[]> {
  const r = await db.query<{ id: string; name: string; action: string; version: string; status: JobStatus; inserted_at: Date; started_at: Date | null; finished_at: Date | null }>(
    `SELECT id, name, action, version, status, inserted_at, started_at, finished_at FROM releases WHERE pipeline_id = $1 ${statuses?.length ? 'AND status = ANY($3::TEXT[])' : ''}
     ORDER BY inserted_at DESC, id DESC LIMIT $2`,
    statuses?.length ? [pipelineId, last, statuses] : [pipelineId, last],
  );
  return r.rows.map((x) => ({
    id: x.id,
    name: x.name,
    action: x.action,
    releaseVersion: x.version,
    releaseStatus: x.status,
    insertedAt: x.inserted_at.toISOString(),
    pendingDuration: x.started_at ? Math.max(0, x.started_at.getTime() - x.inserted_at.getTime()) / 1000 : null,
    duration: x.started_at && x.finished_at ? Math.max(0, x.finished_at.getTime() - x.started_at.getTime()) / 1000 : null,
  }));
}
