/**
 * The bot routes of query-api (issue 20), Estafette's contract for bot runs beside builds and releases:
 * - `GET  …/bots` — the pipeline's bot runs, newest first (`filter[status]`, `filter[since]`,
 *   `filter[name]`, paging); the trigger's PAYLOAD field is left out of lists (it can be 96 KiB).
 * - `GET  …/bots/:id` — one run, with the event that fired it.
 * - `GET  …/bots/:id/stages`, `…/logs` (`after`, `limit`, `stage`, `q`), `…/logs.txt`, `…/logs.stream`
 *   — its stages and log, as for builds and releases.
 * - `GET  …/botnames` — the names of the bots that ran, with counts.
 * - `POST …/bots` `{"name", "branch"?}` (operator) — runs a bot by hand (a `bot.requested`, 202).
 * - `DELETE …/bots/:id` (operator) — cancels a run (a `bot.cancel`, 202; 409 when it has ended).
 * - `GET  /api/bots` — bot runs of every pipeline; `GET /api/stats/botscount` — `{count}` (same filters).
 */
import { LOG_QUERY } from './job-logs.ts';
import { ns, triggerEvents } from './estafette-shapes.ts';
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { actor, type Principal } from '../../shared/auth/access.ts';
import type { LiveLogs } from '../../shared/bus/live-logs.ts';
import { botNames, getBot, getBotPlan, listBots, type Bot, type BotFilter } from '../../shared/db/bots.ts';
import { NotFoundError } from '../../shared/db/errors.ts';
import { isId } from '../../shared/db/ids.ts';
import { readLogLines, searchLogLines } from '../../shared/db/logs.ts';
import type { Pipeline } from '../../shared/db/pipelines.ts';
import { listStageRuns } from '../../shared/db/stages.ts';
import { HttpError, ValidationError } from '../../shared/errors/http-error.ts';
import { isFinalJobStatus } from '../../shared/status/status.ts';
import { json, type HttpResponse } from '../../shared/http/types.ts';
import type { Publish } from '../../shared/runtime/runtime.ts';
import type { Page } from '../../shared/db/page.ts';
import { lastEventSeq, logStream } from './log-stream.ts';
import { logText } from './log-text.ts';
import { plannedStages } from './planned-stages.ts';
import * as p from './params.ts';
import type { Route, RouteContext } from './router.ts';

type Ctx = RouteContext<Principal>;

/** What the bot routes need from query-api. */
export interface BotRouteDeps {
  pool: pg.Pool;
  liveLogs: LiveLogs;
  publish: Publish;
  /** The pipeline named by the route (404 when unknown). */
  pipelineOf(c: Ctx): Promise<Pipeline>;
  pingMs?: number;
}

/** A bot run in Estafette's units, as builds and releases are (estafette-shapes.ts): durations in nanoseconds. */
const botJson = (b: Bot) => {
  const pending = b.startedAt ? Math.max(0, Date.parse(b.startedAt) - Date.parse(b.insertedAt)) / 1000 : undefined;
  return { ...b, triggerEvents: triggerEvents(b.trigger), duration: ns(b.duration), ...(pending === undefined ? {} : { pendingDuration: ns(pending) }) };
};
/** A bot run as lists show it: without the (large) raw forge payload of its trigger. */
const listed = (b: Bot) => {
  if (!b.trigger?.fields.PAYLOAD) return botJson(b);
  const { PAYLOAD: _payload, ...fields } = b.trigger.fields;
  return botJson({ ...b, trigger: { ...b.trigger, fields } });
};
const listedPage = (page: Page<Bot>) => ({ ...page, items: page.items.map(listed) });
/** The query parameters of the bot lists, and of a bot run's log views (as for builds, job-logs.ts). */
const BOT_QUERY = ['page[number]', 'page[size]', 'filter[status]', 'filter[since]', 'filter[name]'] as const;

/** The bot routes under `PL` (`/api/pipelines/:source/:owner/:repo`). */
export function botRoutes(PL: string, deps: BotRouteDeps): Route<Principal>[] {
  const { pool } = deps;
  const botOf = async (c: Ctx): Promise<Bot> => {
    const pl = await deps.pipelineOf(c);
    const id = c.params.id!;
    const b = isId(id) ? await getBot(pool, id) : null;
    if (!b || b.pipelineId !== pl.id) throw new NotFoundError(`bot ${id.slice(0, 40)}`);
    return b;
  };
  const filter = (q: URLSearchParams): BotFilter => ({ ...p.paging(q), statuses: p.statuses(q), since: p.since(q), name: p.text(q, 'filter[name]') });

  async function logs(c: Ctx): Promise<HttpResponse> {
    const q = c.req.query;
    const stage = p.text(q, 'stage', 512);
    const bot = await botOf(c);
    if (q.has('q')) {
      const text = p.text(q, 'q', 200);
      if (!text) throw new ValidationError('q must be a non-empty text to search for');
      const limit = p.intParam(q, 'limit', 10_000, 1, 100_000)!;
      const found = await searchLogLines(pool, 'bot', bot.id, text, { limit, ...(stage ? { stage } : {}) });
      return json(200, { q: text, count: found.matches.length, truncated: found.truncated, matches: found.matches });
    }
    const afterSeq = p.intParam(q, 'after', -1, -1, Number.MAX_SAFE_INTEGER)!;
    const limit = p.intParam(q, 'limit', 5000, 1, 50_000)!;
    return json(200, { items: await readLogLines(pool, 'bot', bot.id, { afterSeq, limit, ...(stage ? { stage } : {}) }) });
  }

  async function run(c: Ctx): Promise<HttpResponse> {
    const pl = await deps.pipelineOf(c);
    const body = p.jsonBody(c.req);
    const name = p.field(body, 'name', 200);
    const branch = p.optionalField(body, 'branch', 500) ?? '';
    const eventId = randomUUID();
    await deps.publish(
      'bot.requested',
      { repoSource: pl.repoSource, repoOwner: pl.repoOwner, repoName: pl.repoName, name, branch, trigger: { event: 'manual', fields: { USER_ID: actor(c.principal) } }, requestedBy: actor(c.principal), chainDepth: 0 },
      { id: eventId, subject: pl.id },
    );
    return json(202, { eventId });
  }

  async function cancel(c: Ctx): Promise<HttpResponse> {
    const bot = await botOf(c);
    if (isFinalJobStatus(bot.botStatus)) throw new HttpError(409, `bot run ${bot.id} is already ${bot.botStatus}`);
    const eventId = randomUUID();
    await deps.publish('bot.cancel', { id: bot.id, requestedBy: actor(c.principal) }, { id: eventId, subject: bot.id });
    return json(202, { eventId });
  }

  return [
    { method: 'GET', path: `${PL}/bots`, query: BOT_QUERY, role: 'viewer', handle: async (c) => json(200, listedPage(await listBots(pool, { ...filter(c.req.query), pipelineId: (await deps.pipelineOf(c)).id }))) },
    { method: 'POST', path: `${PL}/bots`, role: 'operator', handle: run },
    { method: 'GET', path: `${PL}/botnames`, role: 'viewer', handle: async (c) => json(200, { items: await botNames(pool, (await deps.pipelineOf(c)).id) }) },
    { method: 'GET', path: `${PL}/bots/:id`, role: 'viewer', handle: async (c) => json(200, botJson(await botOf(c))) },
    { method: 'DELETE', path: `${PL}/bots/:id`, role: 'operator', handle: cancel },
    {
      method: 'GET',
      path: `${PL}/bots/:id/stages`,
      role: 'viewer',
      handle: async (c) => {
        const bot = await botOf(c);
        const [runs, plan] = await Promise.all([listStageRuns(pool, 'bot', bot.id), getBotPlan(pool, bot.id)]);
        return json(200, { items: plannedStages(plan, runs) });
      },
    },
    // Our flat lines under `loglines`, as for builds and releases (the UI reads them); `logs` answers the
    // same for bot runs (Estafette's step tree is served for builds and releases only, docs/estafette-compatibility.md).
    { method: 'GET', path: `${PL}/bots/:id/loglines`, query: LOG_QUERY.lines, role: 'viewer', handle: logs },
    { method: 'GET', path: `${PL}/bots/:id/logs`, query: LOG_QUERY.lines, role: 'viewer', handle: logs },
    {
      method: 'GET',
      path: `${PL}/bots/:id/logs.stream`,
      query: LOG_QUERY.stream,
      role: 'viewer',
      handle: async (c) => {
        const bot = await botOf(c);
        const afterSeq = lastEventSeq(c.req.headers['last-event-id'], c.req.query.get('lastEventId'));
        const status = async () => (await getBot(pool, bot.id))?.botStatus ?? null;
        return logStream({ pool, liveLogs: deps.liveLogs, kind: 'bot', id: bot.id, afterSeq, status, ...(deps.pingMs ? { pingMs: deps.pingMs } : {}) });
      },
    },
    {
      method: 'GET',
      path: `${PL}/bots/:id/logs.txt`,
      query: LOG_QUERY.text,
      role: 'viewer',
      handle: async (c) => {
        const q = c.req.query;
        const bot = await botOf(c);
        const title = `Bot ${bot.name} of ${bot.repoSource}/${bot.repoOwner}/${bot.repoName}, branch ${bot.repoBranch}${bot.repoRevision ? ` at ${bot.repoRevision.slice(0, 7)}` : ''}: ${bot.botStatus}`;
        const stage = p.text(q, 'stage', 512);
        return logText({
          pool,
          kind: 'bot',
          id: bot.id,
          title,
          fileName: `${bot.repoName}-bot-${bot.name}-${bot.id}`,
          ansi: p.flag(q, 'ansi') ?? false,
          download: p.flag(q, 'download') ?? false,
          ...(stage ? { stage } : {}),
        });
      },
    },
    { method: 'GET', path: '/api/bots', query: BOT_QUERY, role: 'viewer', handle: async (c) => json(200, listedPage(await listBots(pool, filter(c.req.query)))) },
    {
      method: 'GET',
      path: '/api/stats/botscount',
      query: BOT_QUERY,
      role: 'viewer',
      handle: async (c) => json(200, { count: (await listBots(pool, { ...filter(c.req.query), page: 1, size: 1 })).pagination.totalItems }),
    },
  ];
}
