/**
 * Queries of the `bots` table: a bot run executes one `bots:` entry of a pipeline's manifest,
 * fired by a forge event, a cron minute or another trigger (Estafette's `bots` table). Its status
 * moves along the same JOB_TRANSITIONS as builds and releases; its log lines and stage runs are
 * stored under job kind `bot`.
 */
import type pg from 'pg';
import type { RepoRef, TriggerInfo } from '../events/types.ts';
import type { Plan } from '../plan/types.ts';
import type { JobStatus } from '../status/status.ts';
import { transitionParams, transitionSql, type TransitionExtra } from './builds.ts';
import { IllegalTransitionError, NotFoundError } from './errors.ts';
import { newId } from './ids.ts';
import { pageWindow, toPage, Where, type Page, type PageRequest } from './page.ts';
import { sqlState, withTransaction, type Db } from './pool.ts';

/** The API's Bot object (docs/API.md). `duration` is in seconds. */
export interface Bot extends RepoRef {
  id: string;
  pipelineId: string;
  /** The bot's name under `bots:`. */
  name: string;
  /** Branch and revision whose manifest it ran. */
  repoBranch: string;
  repoRevision: string;
  botStatus: JobStatus;
  /** Why it has this status when the system decided it (a refusal); '' otherwise. */
  statusReason: string;
  /** `trigger`, a user, or the firing event's kind. */
  triggeredBy: string;
  /** The event that fired it (`github` with EVENT, REPOSITORY, DELIVERY, PAYLOAD fields; `cron`; …). */
  trigger: TriggerInfo | null;
  /** The build whose manifest it ran. */
  buildId: string | null;
  chainDepth: number;
  eventId: string | null;
  insertedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  duration: number | null;
}

interface BotRow {
  id: string;
  pipeline_id: string;
  repo_source: string;
  repo_owner: string;
  repo_name: string;
  name: string;
  branch: string;
  revision: string;
  status: JobStatus;
  status_reason: string;
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

const COLUMNS = `id, pipeline_id, repo_source, repo_owner, repo_name, name, branch, revision, status, status_reason, triggered_by, trigger,
  build_id, chain_depth, event_id, inserted_at, started_at, finished_at, updated_at, duration_ms`;

function toBot(r: BotRow): Bot {
  return {
    id: r.id,
    pipelineId: r.pipeline_id,
    repoSource: r.repo_source,
    repoOwner: r.repo_owner,
    repoName: r.repo_name,
    name: r.name,
    repoBranch: r.branch,
    repoRevision: r.revision,
    botStatus: r.status,
    statusReason: r.status_reason,
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

/** What createBot inserts. */
export interface BotInput extends RepoRef {
  pipelineId: string;
  name: string;
  branch?: string;
  revision?: string;
  /** Initial status: pending (default), or failed when the request is refused (the reason in statusReason). */
  status?: 'pending' | 'failed';
  statusReason?: string;
  triggeredBy?: string;
  trigger?: TriggerInfo | null;
  buildId?: string | null;
  chainDepth?: number;
  /** Id of the requesting event: a repeat returns the bot run created the first time. */
  eventId?: string;
}

/** The bot run created by event `eventId`, or null. */
export async function getBotByEvent(db: Db, eventId: string): Promise<Bot | null> {
  const r = await db.query<BotRow>(`SELECT ${COLUMNS} FROM bots WHERE event_id = $1`, [eventId]);
  return r.rows[0] ? toBot(r.rows[0]) : null;
}

/** Inserts a bot run and returns it; idempotent per `eventId` (check `created`). */
export async function createBot(pool: pg.Pool, input: BotInput): Promise<{ bot: Bot; created: boolean }> {
  if (input.eventId) {
    const existing = await getBotByEvent(pool, input.eventId);
    if (existing) return { bot: existing, created: false };
  }
  try {
    const r = await pool.query<BotRow>(
      `INSERT INTO bots (id, pipeline_id, repo_source, repo_owner, repo_name, name, branch, revision, status, status_reason, triggered_by,
         trigger, build_id, chain_depth, event_id, finished_at, duration_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::TEXT, $10, $11, $12, $13, $14, $15,
         CASE WHEN $9::TEXT = 'failed' THEN now() END, CASE WHEN $9::TEXT = 'failed' THEN 0 END)
       RETURNING ${COLUMNS}`,
      [
        newId(),
        input.pipelineId,
        input.repoSource,
        input.repoOwner,
        input.repoName,
        input.name,
        input.branch ?? '',
        input.revision ?? '',
        input.status ?? 'pending',
        input.statusReason ?? '',
        input.triggeredBy ?? '',
        input.trigger == null ? null : JSON.stringify(input.trigger),
        input.buildId ?? null,
        input.chainDepth ?? 0,
        input.eventId ?? null,
      ],
    );
    return { bot: toBot(r.rows[0]!), created: true };
  } catch (err) {
    if (input.eventId && sqlState(err) === '23505') {
      const existing = await getBotByEvent(pool, input.eventId);
      if (existing) return { bot: existing, created: false };
    }
    throw err;
  }
}

/** The bot run with this id, or null. */
export async function getBot(db: Db, id: string): Promise<Bot | null> {
  const r = await db.query<BotRow>(`SELECT ${COLUMNS} FROM bots WHERE id = $1`, [id]);
  return r.rows[0] ? toBot(r.rows[0]) : null;
}

/** The plan stored with a bot run, or null. */
export async function getBotPlan(db: Db, id: string): Promise<Plan | null> {
  const r = await db.query<{ plan: Plan | null }>('SELECT plan FROM bots WHERE id = $1', [id]);
  return r.rows[0]?.plan ?? null;
}

/** Stores the compiled plan of a bot run. */
export async function setBotPlan(db: Db, id: string, plan: Plan): Promise<void> {
  const r = await db.query('UPDATE bots SET plan = $2, updated_at = now() WHERE id = $1', [id, JSON.stringify(plan)]);
  if (r.rowCount === 0) throw new NotFoundError(`bot ${id}`);
}

/** Filters of bot run lists, already parsed. */
export interface BotFilter extends PageRequest {
  pipelineId?: string;
  /** The bot's name. */
  name?: string;
  statuses?: JobStatus[];
  since?: Date;
}

/** One page of bot runs, newest first. */
export async function listBots(db: Db, filter: BotFilter = {}): Promise<Page<Bot>> {
  const { page, size, offset } = pageWindow(filter);
  const w = new Where();
  if (filter.pipelineId) w.add('pipeline_id = $?', filter.pipelineId);
  if (filter.name !== undefined) w.add('name = $?', filter.name);
  if (filter.statuses?.length) w.add('status = ANY($?::TEXT[])', filter.statuses);
  if (filter.since) w.add('inserted_at >= $?', filter.since);
  const count = await db.query<{ n: string }>(`SELECT count(*) AS n FROM bots ${w}`, [...w.params]);
  const rows = await db.query<BotRow>(`SELECT ${COLUMNS} FROM bots ${w} ORDER BY inserted_at DESC, id DESC LIMIT ${w.param(size)} OFFSET ${w.param(offset)}`, w.params);
  return toPage(rows.rows.map(toBot), page, size, Number(count.rows[0]!.n));
}

/** The names of a pipeline's bots that have run, with how often (Estafette's `botnames`). */
export async function botNames(db: Db, pipelineId: string): Promise<Array<{ name: string; count: number }>> {
  const r = await db.query<{ name: string; n: string }>('SELECT name, count(*) AS n FROM bots WHERE pipeline_id = $1 GROUP BY name ORDER BY name', [pipelineId]);
  return r.rows.map((x) => ({ name: x.name, count: Number(x.n) }));
}

/** Bot runs in `statuses` (of pending, running, canceling) neither updated nor heard from since `updatedBefore`, oldest first (for the reconciler). */
export async function listStaleBots(db: Db, statuses: readonly JobStatus[], updatedBefore: Date, limit = 100): Promise<Bot[]> {
  const r = await db.query<BotRow>(
    `SELECT ${COLUMNS} FROM bots WHERE status IN ('pending', 'running', 'canceling') AND status = ANY($1::TEXT[])
       AND GREATEST(COALESCE(heartbeat_at, updated_at), updated_at) < $2 ORDER BY updated_at LIMIT $3`,
    [statuses, updatedBefore, limit],
  );
  return r.rows.map(toBot);
}

/**
 * Moves a bot run to `to` if JOB_TRANSITIONS allows it; a repeat of the current status is a
 * no-op. Throws IllegalTransitionError (nothing changed) or NotFoundError.
 */
export async function transitionBotStatus(pool: pg.Pool, id: string, to: JobStatus, extra: TransitionExtra = {}): Promise<Bot> {
  return withTransaction(pool, async (tx) => {
    const r = await tx.query<BotRow>(transitionSql('bots', COLUMNS), transitionParams(id, to, extra));
    if (r.rows[0]) return toBot(r.rows[0]);
    const current = await getBot(tx, id);
    if (!current) throw new NotFoundError(`bot ${id}`);
    if (current.botStatus === to) return current;
    throw new IllegalTransitionError(`bot ${id}`, current.botStatus, to);
  });
}
