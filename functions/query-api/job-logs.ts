/**
 * The views of a job's stages and log, shared by builds and releases: the stage list; the log as
 * Estafette serves it (`…/logs` the step tree, `…/alllogs` the job's logs as a list, `…/logsbyid/:logId`
 * one of them — a job here has one log, whose id is the job's); our flat stored lines (`…/loglines`,
 * paged after a seq, or searched); the plain-text log; and the live SSE stream, whose `log` events
 * are Estafette's TailLogLine with our line's fields beside them (resumable by seq).
 */
import type pg from 'pg';
import type { Principal } from '../../shared/auth/access.ts';
import type { LiveLogs } from '../../shared/bus/live-logs.ts';
import { getBuildPlan } from '../../shared/db/builds.ts';
import { countLinesPerStageRun, readLogLines, searchLogLines } from '../../shared/db/logs.ts';
import { NotFoundError } from '../../shared/db/errors.ts';
import type { LogLine } from '../../shared/logs/protocol.ts';
import { getReleasePlan } from '../../shared/db/releases.ts';
import { listStageRuns, type JobKind } from '../../shared/db/stages.ts';
import { ValidationError } from '../../shared/errors/http-error.ts';
import { json } from '../../shared/http/types.ts';
import type { Lookups } from './lookups.ts';
import { lastEventSeq, logStream } from './log-stream.ts';
import { logText } from './log-text.ts';
import * as p from './params.ts';
import { plannedStages } from './planned-stages.ts';
import type { RouteContext } from './router.ts';
import { stageEventsOf, stagePlacement, stepTree, tailLine } from './step-tree.ts';

type Ctx = RouteContext<Principal>;

/** What the log views need. */
export interface JobLogDeps {
  pool: pg.Pool;
  liveLogs: LiveLogs;
  /** SSE ping interval in ms (default 15 000). */
  pingMs?: number;
}

/** Query parameters of each view. */
export const LOG_QUERY = {
  lines: ['after', 'limit', 'stage', 'q'],
  pages: ['page[number]', 'page[size]'],
  text: ['stage', 'ansi', 'download'],
  stream: ['lastEventId'],
} as const;

/** The route handlers of the log views, each made for a job kind. */
export function jobLogs(deps: JobLogDeps, { buildOf, releaseOf, jobOf }: Lookups) {
  const { pool } = deps;
  const stageList = async (kind: JobKind, id: string) => {
    const [runs, plan] = await Promise.all([listStageRuns(pool, kind, id), kind === 'release' ? getReleasePlan(pool, id) : getBuildPlan(pool, id)]);
    return { plan, list: plannedStages(plan, runs) };
  };
  const allLines = async (kind: JobKind, id: string): Promise<LogLine[]> => {
    const out: LogLine[] = [];
    for (let page = await readLogLines(pool, kind, id, { limit: 50_000 }); page.length; page = await readLogLines(pool, kind, id, { afterSeq: page.at(-1)!.seq, limit: 50_000 })) out.push(...page);
    return out;
  };
  const stages = (kind: JobKind) => async (c: Ctx) => {
    const { id } = await jobOf(c, kind);
    return json(200, { items: (await stageList(kind, id)).list });
  };
  /** Estafette's BuildLog / ReleaseLog object of a job, with or without its steps. */
  const logObject = async (kind: 'build' | 'release', c: Ctx, withSteps: boolean) => {
    const job = kind === 'build' ? await buildOf(c) : await releaseOf(c);
    const repo = { repoSource: job.repoSource, repoOwner: job.repoOwner, repoName: job.repoName };
    const of = 'buildVersion' in job ? { ...repo, repoBranch: job.repoBranch, repoRevision: job.repoRevision, buildID: job.id } : { ...repo, releaseID: job.id };
    let steps = null;
    if (withSteps) {
      const [{ plan, list }, lines] = await Promise.all([stageList(kind, job.id), allLines(kind, job.id)]);
      steps = stepTree(list, plan, lines);
    }
    return { id: job.id, ...of, steps, insertedAt: job.insertedAt };
  };
  /** `…/logs`: the step tree, a bare array as Estafette answers. */
  const steps = (kind: 'build' | 'release') => async (c: Ctx) => json(200, (await logObject(kind, c, true)).steps);
  /** `…/alllogs`: the job's logs, one here, as a list (without steps, as Estafette lists them). */
  const allLogs = (kind: 'build' | 'release') => async (c: Ctx) => {
    const { page, size } = p.paging(c.req.query);
    const items = page === 1 ? [await logObject(kind, c, false)] : [];
    return json(200, { items, pagination: { page, size, totalPages: 1, totalItems: 1 } });
  };
  /** `…/logsbyid/:logId`: one log with its steps (the job's own id). */
  const logById = (kind: 'build' | 'release') => async (c: Ctx) => {
    const log = await logObject(kind, c, true);
    if (c.params.logId !== log.id) throw new NotFoundError(`log ${c.params.logId!.slice(0, 40)}`);
    return json(200, log);
  };
  const logs = (kind: JobKind) => async (c: Ctx) => {
    const q = c.req.query;
    const stage = p.text(q, 'stage', 512);
    if (q.has('q')) {
      // Search: the seqs of the matching lines across the whole log, for next/previous in the UI.
      const text = p.text(q, 'q', 200);
      if (!text) throw new ValidationError('q must be a non-empty text to search for');
      const limit = p.intParam(q, 'limit', 10_000, 1, 100_000)!;
      const job = await jobOf(c, kind);
      const found = await searchLogLines(pool, kind, job.id, text, { limit, ...(stage ? { stage } : {}) });
      return json(200, { q: text, count: found.matches.length, truncated: found.truncated, matches: found.matches });
    }
    const afterSeq = p.intParam(q, 'after', -1, -1, Number.MAX_SAFE_INTEGER)!;
    const limit = p.intParam(q, 'limit', 5000, 1, 50_000)!;
    const job = await jobOf(c, kind);
    return json(200, { items: await readLogLines(pool, kind, job.id, { afterSeq, limit, ...(stage ? { stage } : {}) }) });
  };
  const text = (kind: 'build' | 'release') => async (c: Ctx) => {
    const q = c.req.query;
    const job = kind === 'build' ? await buildOf(c) : await releaseOf(c);
    const repo = `${job.repoSource}/${job.repoOwner}/${job.repoName}`;
    const title =
      'buildVersion' in job
        ? `Build ${job.buildVersion} (#${job.buildNumber}) of ${repo}, branch ${job.repoBranch} at ${job.repoRevision.slice(0, 7)}: ${job.buildStatus}`
        : `Release ${job.releaseVersion} of ${repo} to ${job.name}${job.action ? `/${job.action}` : ''}: ${job.releaseStatus}`;
    const fileName = 'buildVersion' in job ? `${job.repoName}-${job.buildVersion}-build-${job.buildNumber}` : `${job.repoName}-${job.releaseVersion}-release-${job.name}`;
    const stage = p.text(q, 'stage', 512);
    return logText({ pool, kind, id: job.id, title, fileName, ansi: p.flag(q, 'ansi') ?? false, download: p.flag(q, 'download') ?? false, ...(stage ? { stage } : {}) });
  };
  const stream = (kind: JobKind) => async (c: Ctx) => {
    const job = await jobOf(c, kind);
    const afterSeq = lastEventSeq(c.req.headers['last-event-id'], c.req.query.get('lastEventId'));
    // Lines are numbered within their step run, so a resumed stream counts the lines before it.
    const [{ list }, counted] = await Promise.all([stageList(kind, job.id), countLinesPerStageRun(pool, kind, job.id, afterSeq)]);
    const place = stagePlacement(list);
    const eventData = (l: LogLine) => {
      const k = `${l.stage}\u0000${l.run}`;
      const n = (counted.get(k) ?? 0) + 1;
      counted.set(k, n);
      return tailLine(l, n, place);
    };
    return logStream({ pool, liveLogs: deps.liveLogs, kind, id: job.id, afterSeq, status: job.status, eventData, stepEvents: stageEventsOf(place, list), ...(deps.pingMs ? { pingMs: deps.pingMs } : {}) });
  };
  return { stages, steps, allLogs, logById, logs, text, stream };
}
