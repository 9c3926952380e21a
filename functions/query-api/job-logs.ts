/**
 * The views of a job's stages and log, shared by builds and releases: the stage list, the stored
 * lines (paged after a seq, or searched), the plain-text log and the live SSE stream.
 */
import type pg from 'pg';
import type { Principal } from '../../shared/auth/access.ts';
import type { LiveLogs } from '../../shared/bus/live-logs.ts';
import { getBuildPlan } from '../../shared/db/builds.ts';
import { readLogLines, searchLogLines } from '../../shared/db/logs.ts';
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
  text: ['stage', 'ansi', 'download'],
  stream: ['lastEventId'],
} as const;

/** The route handlers of the log views, each made for a job kind. */
export function jobLogs(deps: JobLogDeps, { buildOf, releaseOf, jobOf }: Lookups) {
  const { pool } = deps;
  const stages = (kind: JobKind) => async (c: Ctx) => {
    const { id } = await jobOf(c, kind);
    const [runs, plan] = await Promise.all([listStageRuns(pool, kind, id), kind === 'release' ? getReleasePlan(pool, id) : getBuildPlan(pool, id)]);
    return json(200, { items: plannedStages(plan, runs) });
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
    return logStream({ pool, liveLogs: deps.liveLogs, kind, id: job.id, afterSeq, status: job.status, ...(deps.pingMs ? { pingMs: deps.pingMs } : {}) });
  };
  return { stages, logs, text, stream };
}
