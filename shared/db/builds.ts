/**
 * Queries of the `builds` and `build_counters` tables. A build takes its number from the
 * pipeline's counter in the same transaction as its insert (gap-free, distinct under
 * concurrency); its status moves only along shared/status/status.ts JOB_TRANSITIONS, enforced
 * in SQL; and every change keeps the pipeline row's last-build summary in step.
 */
import type pg from 'pg';
import type { Commit, RepoRef, TriggerInfo } from '../events/types.ts';
import type { Plan } from '../plan/types.ts';
import { FINAL_JOB_STATUSES, JOB_TRANSITIONS, type JobStatus } from '../status/status.ts';
import { IllegalTransitionError, NotFoundError } from './errors.ts';
import { newId } from './ids.ts';
import { pageWindow, toPage, Where, orderBy, type Page, type PageRequest, type SortField } from './page.ts';
import type { ReleaseTargetDef } from './pipelines.ts';
import type { RepoLocation } from '../scm/provider.ts';
import { sqlState, withTransaction, type Db } from './pool.ts';

/** The API's Build object (docs/API.md). `duration` is in seconds. */
export interface Build extends RepoRef {
  id: string;
  pipelineId: string;
  repoBranch: string;
  repoRevision: string;
  buildVersion: string;
  buildStatus: JobStatus;
  /** Why it has this status, when the system decided it (e.g. "superseded by build #7 (abc1234)"); '' otherwise. */
  statusReason: string;
  /** For a `queued` build: 1 + the queued builds ahead of it for the same slot. */
  queuePosition?: number;
  buildNumber: number;
  labels: Record<string, string>;
  releaseTargets: ReleaseTargetDef[];
  /** Only from getBuild(…, { withManifest: true }). */
  manifest?: string;
  commits: Commit[];
  /** How many commits the push carried (commits keeps at most 20 of them). */
  commitCount: number;
  trigger: TriggerInfo | null;
  chainDepth: number;
  eventId: string | null;
  insertedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  duration: number | null;
}

interface BuildRow {
  id: string;
  pipeline_id: string;
  repo_source: string;
  repo_owner: string;
  repo_name: string;
  number: string;
  branch: string;
  revision: string;
  version: string;
  status: JobStatus;
  status_reason: string;
  labels: Record<string, string>;
  release_targets: ReleaseTargetDef[];
  manifest?: string;
  trigger: TriggerInfo | null;
  commits: Commit[];
  commit_count: number;
  chain_depth: number;
  event_id: string | null;
  inserted_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
  duration_ms: string | null;
}

const COLUMNS = `id, pipeline_id, repo_source, repo_owner, repo_name, number, branch, revision, version, status, status_reason, labels,
  release_targets, trigger, commits, commit_count, chain_depth, event_id, inserted_at, started_at, finished_at, updated_at, duration_ms`;

function toBuild(r: BuildRow): Build {
  const b: Build = {
    id: r.id,
    pipelineId: r.pipeline_id,
    repoSource: r.repo_source,
    repoOwner: r.repo_owner,
    repoName: r.repo_name,
    repoBranch: r.branch,
    repoRevision: r.revision,
    buildVersion: r.version,
    buildStatus: r.status,
    statusReason: r.status_reason,
    buildNumber: Number(r.number),
    labels: r.labels,
    releaseTargets: r.release_targets,
    commits: r.commits,
    commitCount: Math.max(r.commit_count, r.commits.length),
    trigger: r.trigger,
    chainDepth: r.chain_depth,
    eventId: r.event_id,
    insertedAt: r.inserted_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    finishedAt: r.finished_at?.toISOString() ?? null,
    updatedAt: r.updated_at.toISOString(),
    duration: r.duration_ms === null ? null : Number(r.duration_ms) / 1000,
  };
  if (r.manifest !== undefined) b.manifest = r.manifest;
  return b;
}

/** What createBuild inserts. */
export interface BuildInput extends RepoRef {
  pipelineId: string;
  branch: string;
  revision?: string;
  /** The version, or a function of the build number taken (for `{{auto}}` patch templates). */
  version: string | ((buildNumber: number) => string);
  /** Initial status (default pending; `failed` for a build whose manifest is invalid, `queued` for one that waits for a slot). */
  status?: 'pending' | 'failed' | 'queued';
  /** The limits a queued build waits under (shared/db/migrations/0240_scheduling.sql). */
  queue?: BuildQueueLimits;
  labels?: Record<string, string>;
  releaseTargets?: ReleaseTargetDef[];
  manifest?: string;
  plan?: Plan | null;
  trigger?: TriggerInfo | null;
  commits?: Commit[];
  /** How many commits the push carried, when more than `commits` holds. */
  commitCount?: number;
  chainDepth?: number;
  /** Id of the event that requested the build: a second createBuild with it returns the first build. */
  eventId?: string;
}

const updateSummary = (column: 'number' | 'id') => `UPDATE pipelines SET
    last_build_id = $2, last_build_number = $3, last_build_status = $4, last_build_version = $5,
    last_build_branch = $6, last_build_revision = $7, last_build_inserted_at = $8, last_build_duration_ms = $9,
    last_activity_at = $8, updated_at = now()
  WHERE id = $1 AND ${column === 'number' ? '(last_build_number IS NULL OR last_build_number <= $3)' : 'last_build_id = $2'}`;

async function syncSummary(db: Db, b: Build, when: 'newer' | 'same'): Promise<void> {
  await db.query(updateSummary(when === 'newer' ? 'number' : 'id'), [
    b.pipelineId,
    b.id,
    b.buildNumber,
    b.buildStatus,
    b.buildVersion,
    b.repoBranch,
    b.repoRevision,
    b.insertedAt,
    b.duration === null ? null : Math.round(b.duration * 1000),
  ]);
}

/** The build created by event `eventId`, or null. */
export async function getBuildByEvent(db: Db, eventId: string): Promise<Build | null> {
  const r = await db.query<BuildRow>(`SELECT ${COLUMNS} FROM builds WHERE event_id = $1`, [eventId]);
  return r.rows[0] ? toBuild(r.rows[0]) : null;
}

/**
 * Inserts a build with the pipeline's next number and updates the pipeline's summary, inside the
 * caller's transaction `tx` (e.g. together with upsertPipeline/replaceTriggers). Returns the
 * existing build instead when `eventId` was already used. Prefer createBuild unless composing.
 */
export async function insertBuild(tx: Db, input: BuildInput): Promise<{ build: Build; created: boolean }> {
  if (input.eventId) {
    const existing = await getBuildByEvent(tx, input.eventId);
    if (existing) return { build: existing, created: false };
  }
  const c = await tx.query<{ counter: string }>(
    `INSERT INTO build_counters (pipeline_id, counter) VALUES ($1, 1)
     ON CONFLICT (pipeline_id) DO UPDATE SET counter = build_counters.counter + 1 RETURNING counter`,
    [input.pipelineId],
  );
  const number = Number(c.rows[0]!.counter);
  const version = typeof input.version === 'function' ? input.version(number) : input.version;
  const status = input.status ?? 'pending';
  const r = await tx.query<BuildRow>(
    `INSERT INTO builds (id, pipeline_id, repo_source, repo_owner, repo_name, number, branch, revision, version, status,
       labels, release_targets, manifest, plan, trigger, commits, chain_depth, event_id, commit_count, finished_at, duration_ms,
       queue_limit, queue_per_branch, queue_global)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
       CASE WHEN $10::TEXT = 'failed' THEN now() END, CASE WHEN $10::TEXT = 'failed' THEN 0 END, $20, $21, $22)
     RETURNING ${COLUMNS}`,
    [
      newId(),
      input.pipelineId,
      input.repoSource,
      input.repoOwner,
      input.repoName,
      number,
      input.branch,
      input.revision ?? '',
      version,
      status,
      JSON.stringify(input.labels ?? {}),
      JSON.stringify(input.releaseTargets ?? []),
      input.manifest ?? '',
      input.plan == null ? null : JSON.stringify(input.plan),
      input.trigger == null ? null : JSON.stringify(input.trigger),
      JSON.stringify(input.commits ?? []),
      input.chainDepth ?? 0,
      input.eventId ?? null,
      Math.max(input.commitCount ?? 0, input.commits?.length ?? 0),
      input.queue?.limit ?? null,
      input.queue?.perBranch ?? false,
      input.queue?.global ?? false,
    ],
  );
  const build = toBuild(r.rows[0]!);
  await syncSummary(tx, build, 'newer');
  return { build, created: true };
}

/**
 * Inserts a build with the pipeline's next number (taken in the same transaction, so numbers are
 * distinct and gap-free under concurrency) and returns it. Idempotent per `eventId`: a repeat
 * returns the build created the first time (check `created`).
 */
export async function createBuild(pool: pg.Pool, input: BuildInput): Promise<{ build: Build; created: boolean }> {
  try {
    return await withTransaction(pool, (tx) => insertBuild(tx, input));
  } catch (err) {
    // Two deliveries of one event raced past the lookup: the loser returns the winner's build.
    if (input.eventId && sqlState(err) === '23505') {
      const existing = await getBuildByEvent(pool, input.eventId);
      if (existing) return { build: existing, created: false };
    }
    throw err;
  }
}

/** The build with this id, or null. `withManifest` adds the manifest text. */
export async function getBuild(db: Db, id: string, opts: { withManifest?: boolean } = {}): Promise<Build | null> {
  const r = await db.query<BuildRow>(`SELECT ${COLUMNS}${opts.withManifest ? ', manifest' : ''} FROM builds WHERE id = $1`, [id]);
  return r.rows[0] ? (await withQueuePositions(db, [toBuild(r.rows[0])]))[0]! : null;
}

/** The status of a build alone (one primary-key read, for log-ingest's per-batch check), or null when there is no such build. */
export async function getBuildStatus(db: Db, id: string): Promise<JobStatus | null> {
  const r = await db.query<{ status: JobStatus }>('SELECT status FROM builds WHERE id = $1', [id]);
  return r.rows[0]?.status ?? null;
}

/** The plan stored with a build (for the dispatcher and builder config), or null. */
export async function getBuildPlan(db: Db, id: string): Promise<Plan | null> {
  const r = await db.query<{ plan: Plan | null }>('SELECT plan FROM builds WHERE id = $1', [id]);
  return r.rows[0]?.plan ?? null;
}

/** Stores the compiled plan of a build (written after insert, once the number and version are known). */
export async function setBuildPlan(db: Db, id: string, plan: Plan): Promise<void> {
  const r = await db.query('UPDATE builds SET plan = $2, updated_at = now() WHERE id = $1', [id, JSON.stringify(plan)]);
  if (r.rowCount === 0) throw new NotFoundError(`build ${id}`);
}

/** Filters of build lists, already parsed. */
export interface BuildFilter extends PageRequest {
  pipelineId?: string;
  branch?: string;
  statuses?: JobStatus[];
  /** Only builds inserted at or after this time. */
  since?: Date;
  /** Only the build created by this request event (how a client finds the build its rebuild made). */
  eventId?: string;
  /** Every label must match exactly. */
  labels?: Record<string, string>;
  /** An explicit order (columns of the builds table); default newest first. */
  order?: SortField[];
}

/**
 * One page of builds, newest first. With a pipeline it reads the (pipeline_id, number) or
 * (pipeline_id, branch, number) index, so a pipeline with millions of builds is still an index seek.
 */
export async function listBuilds(db: Db, filter: BuildFilter = {}): Promise<Page<Build>> {
  const { page, size, offset } = pageWindow(filter);
  const w = new Where();
  if (filter.pipelineId) w.add('pipeline_id = $?', filter.pipelineId);
  if (filter.branch !== undefined) w.add('branch = $?', filter.branch);
  if (filter.statuses?.length) w.add('status = ANY($?::TEXT[])', filter.statuses);
  if (filter.since) w.add('inserted_at >= $?', filter.since);
  if (filter.eventId !== undefined) w.add('event_id = $?', filter.eventId);
  if (filter.labels && Object.keys(filter.labels).length) w.add('labels @> $?::JSONB', JSON.stringify(filter.labels));
  const order = orderBy(filter.order, filter.pipelineId ? 'number DESC' : 'inserted_at DESC, id DESC');
  const count = await db.query<{ n: string }>(`SELECT count(*) AS n FROM builds ${w}`, [...w.params]);
  const rows = await db.query<BuildRow>(`SELECT ${COLUMNS} FROM builds ${w} ORDER BY ${order} LIMIT ${w.param(size)} OFFSET ${w.param(offset)}`, w.params);
  return toPage(await withQueuePositions(db, rows.rows.map(toBuild)), page, size, Number(count.rows[0]!.n));
}

/**
 * The newest build of each branch among the pipeline's latest `window` builds (default 500),
 * newest first. Bounded so it stays an index range read however many builds the pipeline has.
 */
export async function latestBuildPerBranch(db: Db, pipelineId: string, window = 500): Promise<Build[]> {
  const r = await db.query<BuildRow>(
    `SELECT ${COLUMNS} FROM (
       SELECT *, row_number() OVER (PARTITION BY branch ORDER BY number DESC) AS rn
       FROM (SELECT * FROM builds WHERE pipeline_id = $1 ORDER BY number DESC LIMIT $2) AS recent
     ) AS ranked WHERE rn = 1 ORDER BY number DESC`,
    [pipelineId, window],
  );
  return withQueuePositions(db, r.rows.map(toBuild));
}

/** Every build of a pipeline with this version, newest first. */
export async function findBuildsByVersion(db: Db, pipelineId: string, version: string): Promise<Build[]> {
  const r = await db.query<BuildRow>(`SELECT ${COLUMNS} FROM builds WHERE pipeline_id = $1 AND version = $2 ORDER BY number DESC`, [pipelineId, version]);
  return r.rows.map(toBuild);
}

/** The newest build of a pipeline at this revision, or null (the API's `builds/:revision`). */
export async function findBuildByRevision(db: Db, pipelineId: string, revision: string): Promise<Build | null> {
  const r = await db.query<BuildRow>(`SELECT ${COLUMNS} FROM builds WHERE pipeline_id = $1 AND revision = $2 ORDER BY number DESC LIMIT 1`, [pipelineId, revision]);
  return r.rows[0] ? toBuild(r.rows[0]) : null;
}

/** Builds in `statuses` (of pending, running, canceling) not updated since `updatedBefore`, oldest first (for the reconciler). */
export async function listStaleBuilds(db: Db, statuses: readonly JobStatus[], updatedBefore: Date, limit = 100): Promise<Build[]> {
  const r = await db.query<BuildRow>(
    // The literal IN list matches the partial index builds_active, which a parameter alone would not.
    `SELECT ${COLUMNS} FROM builds WHERE status IN ('pending', 'running', 'canceling') AND status = ANY($1::TEXT[])
       AND GREATEST(COALESCE(heartbeat_at, updated_at), updated_at) < $2 ORDER BY updated_at LIMIT $3`,
    [statuses, updatedBefore, limit],
  );
  return r.rows.map(toBuild);
}

/**
 * Records that the builder of build, release or bot run `id` is alive now (any report it sent). Writes at
 * most once per `everyMs` per job (the WHERE skips a fresher value), so a builder posting a batch
 * every 250 ms costs a row update every few seconds. Only while the job is not final.
 */
export async function touchJobHeartbeat(db: Db, kind: 'build' | 'release' | 'bot', id: string, everyMs = 2000): Promise<void> {
  const table = kind === 'build' ? 'builds' : kind === 'release' ? 'releases' : 'bots';
  await db.query(
    `UPDATE ${table} SET heartbeat_at = now() WHERE id = $1 AND status IN ('pending', 'running', 'canceling')
       AND (heartbeat_at IS NULL OR heartbeat_at < now() - ($2::INT8 * INTERVAL '1 millisecond'))`,
    [id, everyMs],
  );
}

/** Optional values recorded with a transition. */
export interface TransitionExtra {
  /** When it happened (default: the database's now()). */
  at?: Date;
  /** Why (stored as the status reason; absent keeps the current one). */
  reason?: string;
}

const FINAL = FINAL_JOB_STATUSES as readonly string[];

/**
 * The SQL of a status transition on `table`: sets status, started_at (on running), finished_at
 * and duration_ms (on final statuses), only WHERE the current status may move to $2.
 */
export const transitionSql = (table: 'builds' | 'releases' | 'bots', columns: string): string => `
  UPDATE ${table} SET
    status = $2::TEXT,
    updated_at = COALESCE($4::TIMESTAMPTZ, now()),
    started_at = CASE WHEN $2::TEXT = 'running' THEN COALESCE(started_at, $4::TIMESTAMPTZ, now()) ELSE started_at END,
    finished_at = CASE WHEN $2::TEXT = ANY($5::TEXT[]) THEN COALESCE($4::TIMESTAMPTZ, now()) ELSE finished_at END,
    duration_ms = CASE WHEN $2::TEXT = ANY($5::TEXT[])
      THEN CAST(EXTRACT(EPOCH FROM (COALESCE($4::TIMESTAMPTZ, now()) - COALESCE(started_at, inserted_at))) * 1000 AS INT8)
      ELSE duration_ms END,
    status_reason = COALESCE($6::TEXT, status_reason)
  WHERE id = $1 AND status = ANY($3::TEXT[])
  RETURNING ${columns}`;

/** Parameters of transitionSql. */
export const transitionParams = (id: string, to: JobStatus, extra: TransitionExtra): unknown[] => [id, to, JOB_TRANSITIONS[to], extra.at ?? null, FINAL, extra.reason ?? null];

/**
 * Moves a build to status `to` if JOB_TRANSITIONS allows it from its current status, and keeps
 * the pipeline's last-build summary in step. Asking for the status it already has is a no-op
 * (reports may be resent). Throws IllegalTransitionError (nothing changed) or NotFoundError.
 */
export async function transitionBuildStatus(pool: pg.Pool, id: string, to: JobStatus, extra: TransitionExtra = {}): Promise<Build> {
  return withTransaction(pool, (tx) => transitionBuildStatusIn(tx, id, to, extra));
}

/** transitionBuildStatus inside the caller's transaction `tx` (e.g. admission, which holds the queue lock). */
export async function transitionBuildStatusIn(tx: Db, id: string, to: JobStatus, extra: TransitionExtra = {}): Promise<Build> {
  const r = await tx.query<BuildRow>(transitionSql('builds', COLUMNS), transitionParams(id, to, extra));
  if (r.rows[0]) {
    const build = toBuild(r.rows[0]);
    await syncSummary(tx, build, 'same');
    return build;
  }
  const current = await getBuild(tx, id);
  if (!current) throw new NotFoundError(`build ${id}`);
  if (current.buildStatus === to) return current;
  throw new IllegalTransitionError(`build ${id}`, current.buildStatus, to);
}

/** How to start the Job of a queued build (migration 0241): what the dispatching instance knew. */
export interface BuildJobStart {
  cloneUrl: string;
  cloneRef?: string;
  secretsAllowed?: boolean;
  cloneAccess?: RepoLocation;
}

/** Stores how a queued build's Job is to be started. */
export async function setBuildJobStart(db: Db, id: string, start: BuildJobStart): Promise<void> {
  await db.query('UPDATE builds SET job_start = $2 WHERE id = $1', [id, JSON.stringify(start)]);
}

/** How a queued build's Job is to be started, or null when it was not stored. */
export async function getBuildJobStart(db: Db, id: string): Promise<BuildJobStart | null> {
  const r = await db.query<{ job_start: BuildJobStart | null }>('SELECT job_start FROM builds WHERE id = $1', [id]);
  return r.rows[0]?.job_start ?? null;
}

/** The limits a queued build waits under. */
export interface BuildQueueLimits {
  /** At most this many active builds of its pipeline (undefined: no pipeline limit). */
  limit?: number;
  /** The pipeline limit counts per branch. */
  perBranch: boolean;
  /** ESTAFETTE_MAX_RUNNING_BUILDS applies: it waits in the server-wide queue. */
  global: boolean;
}

/** A queued build as admission sees it. */
export interface QueuedBuild {
  id: string;
  pipelineId: string;
  branch: string;
  limits: BuildQueueLimits;
}

/** The oldest `max` queued builds that have a plan (one without is still being dispatched), first come first. */
export async function listQueuedBuilds(db: Db, max: number): Promise<QueuedBuild[]> {
  const r = await db.query<{ id: string; pipeline_id: string; branch: string; queue_limit: number | null; queue_per_branch: boolean; queue_global: boolean }>(
    `SELECT id, pipeline_id, branch, queue_limit, queue_per_branch, queue_global FROM builds
     WHERE status = 'queued' AND plan IS NOT NULL ORDER BY inserted_at, id LIMIT $1`,
    [max],
  );
  return r.rows.map((b) => ({
    id: b.id,
    pipelineId: b.pipeline_id,
    branch: b.branch,
    limits: { ...(b.queue_limit === null ? {} : { limit: b.queue_limit }), perBranch: b.queue_per_branch, global: b.queue_global },
  }));
}

/** Active (pending, running, canceling) builds: all of them, or of a pipeline (and branch). */
export async function countActiveBuilds(db: Db, scope: { pipelineId?: string; branch?: string } = {}): Promise<number> {
  const w = new Where();
  w.add("status IN ('pending', 'running', 'canceling')");
  if (scope.pipelineId) w.add('pipeline_id = $?', scope.pipelineId);
  if (scope.branch !== undefined) w.add('branch = $?', scope.branch);
  const r = await db.query<{ n: string }>(`SELECT count(*) AS n FROM builds ${w}`, w.params);
  return Number(r.rows[0]!.n);
}

/**
 * The branch's builds that a newer push replaced: not final, requested by a push (trigger event
 * `git`), and numbered below the branch's newest such build. Oldest first.
 */
export async function listSupersededBuilds(db: Db, pipelineId: string, branch: string): Promise<Build[]> {
  const r = await db.query<BuildRow>(
    `SELECT ${COLUMNS} FROM builds b WHERE pipeline_id = $1 AND branch = $2 AND status IN ('queued', 'pending', 'running')
       AND trigger->>'event' = 'git'
       AND number < (SELECT max(number) FROM builds WHERE pipeline_id = $1 AND branch = $2 AND trigger->>'event' = 'git')
     ORDER BY number`,
    [pipelineId, branch],
  );
  return r.rows.map(toBuild);
}

/** The newest build of the branch requested by a push, or null. */
export async function newestPushBuild(db: Db, pipelineId: string, branch: string): Promise<Build | null> {
  const r = await db.query<BuildRow>(`SELECT ${COLUMNS} FROM builds WHERE pipeline_id = $1 AND branch = $2 AND trigger->>'event' = 'git' ORDER BY number DESC LIMIT 1`, [pipelineId, branch]);
  return r.rows[0] ? toBuild(r.rows[0]) : null;
}

/**
 * Sets `queuePosition` on the queued builds among `builds` (one query, only when there are any):
 * 1 + the queued builds ahead of it (older) that wait for the same slot — every queued build in
 * the server-wide queue, else those of its pipeline (and branch, for a per-branch limit).
 */
async function withQueuePositions(db: Db, builds: Build[]): Promise<Build[]> {
  const ids = builds.filter((b) => b.buildStatus === 'queued').map((b) => b.id);
  if (ids.length === 0) return builds;
  const r = await db.query<{ id: string; ahead: string }>(
    `SELECT me.id, (SELECT count(*) FROM builds q WHERE q.status = 'queued' AND (q.inserted_at, q.id) < (me.inserted_at, me.id)
         AND (me.queue_global OR (q.pipeline_id = me.pipeline_id AND (NOT me.queue_per_branch OR q.branch = me.branch)))) AS ahead
     FROM builds me WHERE me.id = ANY($1::INT8[]) AND me.status = 'queued'`,
    [ids],
  );
  const ahead = new Map(r.rows.map((x) => [x.id, Number(x.ahead)]));
  for (const b of builds) if (ahead.has(b.id)) b.queuePosition = ahead.get(b.id)! + 1;
  return builds;
}

/** How many builds match `filter` (the stats count route). */
export async function countBuilds(db: Db, filter: BuildFilter = {}): Promise<number> {
  return (await listBuilds(db, { ...filter, page: 1, size: 1 })).pagination.totalItems;
}

/**
 * Durations of a pipeline's latest `last` builds (only those of `statuses` when given), newest
 * first (the durations chart): `pendingDuration` from insert to start, `duration` the run, in seconds.
 */
export async function buildDurations(
  db: Db,
  pipelineId: string,
  last: number,
  statuses?: JobStatus[],
): Promise<{ id: string; buildVersion: string; buildStatus: JobStatus; insertedAt: string; pendingDuration: number | null; duration: number | null }[]> {
  const r = await db.query<{ id: string; version: string; status: JobStatus; inserted_at: Date; started_at: Date | null; duration_ms: string | null }>(
    `SELECT id, version, status, inserted_at, started_at, duration_ms FROM builds WHERE pipeline_id = $1 ${statuses?.length ? 'AND status = ANY($3::TEXT[])' : ''}
     ORDER BY number DESC LIMIT $2`,
    statuses?.length ? [pipelineId, last, statuses] : [pipelineId, last],
  );
  return r.rows.map((b) => ({
    id: b.id,
    buildVersion: b.version,
    buildStatus: b.status,
    insertedAt: b.inserted_at.toISOString(),
    pendingDuration: b.started_at ? Math.max(0, b.started_at.getTime() - b.inserted_at.getTime()) / 1000 : null,
    duration: b.duration_ms === null ? null : Number(b.duration_ms) / 1000,
  }));
}

/** Succeeded and failed builds of a pipeline since `since` (all time when absent); rate = succeeded / (succeeded + failed). */
export async function buildSuccessRate(db: Db, pipelineId: string, since?: Date): Promise<{ total: number; succeeded: number; failed: number; rate: number }> {
  const r = await db.query<{ succeeded: string; failed: string }>(
    `SELECT count(*) FILTER (WHERE status = 'succeeded') AS succeeded, count(*) FILTER (WHERE status = 'failed') AS failed
     FROM builds WHERE pipeline_id = $1 AND ($2::TIMESTAMPTZ IS NULL OR inserted_at >= $2::TIMESTAMPTZ)`,
    [pipelineId, since ?? null],
  );
  const succeeded = Number(r.rows[0]!.succeeded);
  const failed = Number(r.rows[0]!.failed);
  const total = succeeded + failed;
  return { total, succeeded, failed, rate: total === 0 ? 0 : succeeded / total };
}

/**
 * Fills in what a build created before its manifest could be read lacks (version, labels,
 * release targets, manifest) once it has been read; only while the build is pending.
 */
export async function completeBuildManifest(db: Db, id: string, facts: { version: string; labels: Record<string, string>; releaseTargets: ReleaseTargetDef[]; manifest: string }): Promise<Build | null> {
  const r = await db.query<BuildRow>(
    `UPDATE builds SET version = $2, labels = $3, release_targets = $4, manifest = $5, updated_at = now()
     WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
    [id, facts.version, JSON.stringify(facts.labels), JSON.stringify(facts.releaseTargets), facts.manifest],
  );
  if (!r.rows[0]) return null;
  const build = toBuild(r.rows[0]);
  await syncSummary(db, build, 'same');
  return build;
}

/**
 * Detaches a build from the event that created it, so a redelivery of that event (a user's
 * "Redeliver" after the build failed without ever running) builds again instead of being a
 * duplicate. Also bumps updated_at.
 */
export async function releaseBuildEvent(db: Db, id: string): Promise<void> {
  await db.query('UPDATE builds SET event_id = NULL, updated_at = now() WHERE id = $1', [id]);
}

/** Marks a pending build as still being worked on (housekeeping leaves recently updated builds alone). */
export async function touchBuild(db: Db, id: string): Promise<void> {
  await db.query("UPDATE builds SET updated_at = now() WHERE id = $1 AND status = 'pending'", [id]);
}

/** The commits and trigger of each given build (for build summaries that lack them), in one query. */
export async function buildOrigins(db: Db, ids: string[]): Promise<Map<string, { commits: Commit[]; trigger: TriggerInfo | null; startedAt: string | null; updatedAt: string }>> {
  if (ids.length === 0) return new Map();
  const r = await db.query<{ id: string; commits: Commit[]; trigger: TriggerInfo | null; started_at: Date | null; updated_at: Date }>(
    'SELECT id, commits, trigger, started_at, updated_at FROM builds WHERE id = ANY($1::INT8[])',
    [ids],
  );
  return new Map(r.rows.map((b) => [b.id, { commits: b.commits, trigger: b.trigger, startedAt: b.started_at?.toISOString() ?? null, updatedAt: b.updated_at.toISOString() }]));
}

/**
 * Per pipeline, the median duration in seconds of its latest `window` succeeded builds — what
 * a running build of it is expected to take — in one query (an index range per pipeline).
 * Pipelines without a succeeded build are absent.
 */
export async function typicalBuildDurations(db: Db, pipelineIds: string[], window = 10): Promise<Map<string, number>> {
  if (pipelineIds.length === 0) return new Map();
  const r = await db.query<{ id: string; median: number | null }>(
    `SELECT p.id, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY recent.duration_ms) FROM (
         SELECT duration_ms FROM builds WHERE pipeline_id = p.id AND status = 'succeeded' AND duration_ms IS NOT NULL ORDER BY number DESC LIMIT $2
       ) AS recent) AS median
     FROM unnest($1::INT8[]) AS p (id)`,
    [[...new Set(pipelineIds)], window],
  );
  return new Map(r.rows.filter((x) => x.median !== null).map((x) => [String(x.id), Number(x.median) / 1000]));
}
