/**
 * log-ingest: the builder's endpoint for log batches and status reports
 * (shared/logs/protocol.ts). Each request is authorised by the job's token (a token for one job
 * cannot write another), validated whole at the edge, then written: lines with one idempotent
 * multi-row insert, statuses through the state machine. Storing is the commit point: only after
 * the write are they published on live logs for SSE viewers, best-effort (a failed live publish
 * is logged, never answered as an error, so a stored batch is never resent), and a job going
 * running / final emits `*.started` / `*.finished` with an id derived from (job, status) so a resent report cannot start anything twice.
 * A job's token ends with the job: once the build, release or bot run is final (its builder reported
 * the end, or the system ended it — canceled, reconciled), every further batch, report or
 * heartbeat is refused with 409 and nothing is written.
 * Lines and bytes ingested, and each job's start (with its queue wait) and end (with its
 * duration), are counted (shared/metrics/); the token cache's expiry follows the injected clock.
 */
import { decodeJwt } from 'jose';
import { eventArgs } from '../../shared/events/types.ts';
import type pg from 'pg';
import { verifyJobToken, type JobClaim } from '../../shared/auth/job-token.ts';
import type { LiveLogs } from '../../shared/bus/live-logs.ts';
import { getBuild, getBuildStatus, touchJobHeartbeat, transitionBuildStatus, type Build } from '../../shared/db/builds.ts';
import { NotFoundError } from '../../shared/db/errors.ts';
import { isId } from '../../shared/db/ids.ts';
import { appendLogLines } from '../../shared/db/logs.ts';
import { getRelease, getReleaseStatus, transitionReleaseStatus, type Release } from '../../shared/db/releases.ts';
import { getBot, transitionBotStatus, type Bot } from '../../shared/db/bots.ts';
import { upsertStageRuns } from '../../shared/db/stages.ts';
import { HttpError } from '../../shared/errors/http-error.ts';
import { json, type HttpHandler, type HttpRequest, type HttpResponse } from '../../shared/http/types.ts';
import type { LiveMessage, StatusReport } from '../../shared/logs/protocol.ts';
import type { Publish } from '../../shared/runtime/runtime.ts';
import { isFinalJobStatus, type JobStatus } from '../../shared/status/status.ts';
import { jobStatusEvent } from '../../shared/events/job-status-events.ts';
import { parseBody, parseHeartbeat, parseLogBatch, parseStatusReport } from './validate.ts';
import { errorMessage, type Logger } from '../../shared/log/logger.ts';
import { buildFinished, buildStarted, logLinesIngested } from '../../shared/metrics/metrics.ts';
import { systemClock, type Clock } from '../../shared/time/clock.ts';

/** What the handler needs; no transport of its own. */
export interface LogIngestDeps {
  pool: pg.Pool;
  liveLogs: LiveLogs;
  publish: Publish;
  /** ESTAFETTE_JWT_KEY: verifies job tokens. */
  jwtKey: string;
  /** Structured log lines (ids as fields). */
  log: Logger;
  /** The clock of token expiry (default the system clock; tests move a fake one). */
  clock?: Clock;
}

/** How often a job's heartbeat_at is written at most (reports arrive every 250 ms or so). */
export const HEARTBEAT_WRITE_MS = 2000;

const ROUTE = /^\/api\/ingest\/(builds|releases|bots)\/([^/]+)\/(logs|status|heartbeat)\/?$/;
const KIND = { builds: 'build', releases: 'release', bots: 'bot' } as const;

/** Verified tokens (a builder sends the same one with every batch) until they expire; bounded by clearing. */
type TokenCache = Map<string, { claim: JobClaim; expiresAt: number }>;

async function authorise(req: HttpRequest, key: string, job: JobClaim, cache: TokenCache, clock: Clock): Promise<void> {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new HttpError(401, 'missing bearer job token');
  const token = m[1]!;
  const hit = cache.get(token);
  let claim = hit && hit.expiresAt > clock.now() ? hit.claim : undefined;
  if (!claim) {
    claim = await verifyJobToken(key, token, clock);
    if (!claim) throw new HttpError(401, 'invalid or expired job token');
    const exp = decodeJwt(token).exp;
    if (cache.size >= 10_000) cache.clear();
    if (typeof exp === 'number') cache.set(token, { claim, expiresAt: exp * 1000 });
  }
  if (claim.kind !== job.kind || claim.id !== job.id) throw new HttpError(401, `job token is not valid for ${job.kind} ${job.id}`);
}

/** A job's row: a build, a release or a bot run. */
type JobRow = Build | Release | Bot;

/** The job row; NotFoundError when it does not exist. */
async function findJob(pool: pg.Pool, job: JobClaim): Promise<JobRow> {
  if (job.kind === 'build') {
    const b = await getBuild(pool, job.id);
    if (!b) throw new NotFoundError(`build ${job.id}`);
    return b;
  }
  if (job.kind === 'release') {
    const r = await getRelease(pool, job.id);
    if (!r) throw new NotFoundError(`release ${job.id}`);
    return r;
  }
  const b = await getBot(pool, job.id);
  if (!b) throw new NotFoundError(`bot ${job.id}`);
  return b;
}

const statusOf = (row: JobRow): JobStatus => ('buildStatus' in row ? row.buildStatus : 'botStatus' in row ? row.botStatus : row.releaseStatus);

/** Throws 409 when the job is final: its token writes nothing more. */
function refuseFinal(job: JobClaim, status: JobStatus | undefined): void {
  if (status && isFinalJobStatus(status)) {
    throw new HttpError(409, `${job.kind} ${job.id} is already ${status}: it accepts no more log lines or reports`);
  }
}

/** The status of a build, release or bot run (404 when there is none). */
async function currentStatus(pool: pg.Pool, job: JobClaim): Promise<JobStatus | undefined> {
  const status = job.kind === 'build' ? await getBuildStatus(pool, job.id) : job.kind === 'release' ? await getReleaseStatus(pool, job.id) : (await getBot(pool, job.id))?.botStatus;
  if (!status) throw new NotFoundError(`${job.kind} ${job.id}`);
  return status;
}
const seconds = (from: string | null, to: string | null): number | undefined => (from && to ? (Date.parse(to) - Date.parse(from)) / 1000 : undefined);

/** Logs and counts a job that just changed status: started (with its queue wait) or finished (with its duration). */
function countTransition(log: Logger, job: JobClaim, row: JobRow): void {
  const status = statusOf(row);
  log.info({ [`${job.kind}Id`]: job.id, pipeline: `${row.repoSource}/${row.repoOwner}/${row.repoName}`, status }, `${job.kind} ${job.id} ${status}`);
  if (status === 'running') buildStarted(job.kind, seconds(row.insertedAt, row.startedAt));
  else if (isFinalJobStatus(status)) buildFinished(job.kind, status, row.duration ?? undefined);
}

/** The log-ingest handler. */
export function makeHandler(deps: LogIngestDeps): HttpHandler {
  // Jobs seen final: a final job never becomes active again, so they are refused without a read.
  // Any other job's status is read for every request (one primary-key read). Bounded by clearing.
  const finals = new Map<string, JobStatus>();
  const tokens: TokenCache = new Map();
  const clock = deps.clock ?? systemClock;
  let liveFailing = false;
  /** Publishes on live logs; a failure is logged once per outage, never thrown. */
  const liveBestEffort = (job: JobClaim, msg: LiveMessage): void => {
    try {
      deps.liveLogs.publish(job.kind, job.id, msg);
      if (liveFailing) deps.log.info('live logs: publishing again');
      liveFailing = false;
    } catch (err) {
      if (!liveFailing) deps.log.warn({ [`${job.kind}Id`]: job.id, error: errorMessage(err) }, 'live logs: cannot publish (stored lines stay readable; viewers catch up from the database)');
      liveFailing = true;
    }
  };
  const lastBeat = new Map<string, number>();
  async function heartbeat(job: JobClaim): Promise<void> {
    const key = `${job.kind}/${job.id}`;
    const now = clock.now();
    if (now - (lastBeat.get(key) ?? 0) < HEARTBEAT_WRITE_MS) return;
    if (lastBeat.size >= 10_000) lastBeat.clear();
    lastBeat.set(key, now);
    await touchJobHeartbeat(deps.pool, job.kind, job.id, HEARTBEAT_WRITE_MS);
  }
  async function logs(job: JobClaim, req: HttpRequest): Promise<HttpResponse> {
    const lines = parseLogBatch(parseBody(req));
    const stored = lines.length ? await appendLogLines(deps.pool, job.kind, job.id, lines) : 0;
    logLinesIngested(
      job.kind,
      lines.length,
      lines.reduce((n, l) => n + Buffer.byteLength(l.text), 0),
    );
    // Stored is committed: the live copy is best-effort (viewers fill gaps from the database),
    // so a bus outage never makes the builder resend a batch that is already stored.
    if (lines.length) liveBestEffort(job, { lines });
    return json(202, { accepted: lines.length, stored });
  }

  /** The job's status, remembered once final (a final job never changes again); 404 when there is no such job. */
  async function jobStatus(job: JobClaim): Promise<JobStatus | undefined> {
    const key = `${job.kind}/${job.id}`;
    const status = finals.get(key) ?? (await currentStatus(deps.pool, job));
    if (status && isFinalJobStatus(status) && !finals.has(key)) {
      if (finals.size >= 10_000) finals.clear();
      finals.set(key, status);
    }
    return status;
  }

  async function emit(row: JobRow, status: JobStatus): Promise<void> {
    // Bot runs end nothing else: no commit status, no triggers listen to them (as in Estafette).
    if ('botStatus' in row) return;
    const e = jobStatusEvent(row, status);
    if (e) await deps.publish(...eventArgs(e), { id: e.id, subject: row.id });
  }

  async function status(job: JobClaim, req: HttpRequest): Promise<HttpResponse> {
    const report: StatusReport = parseStatusReport(parseBody(req));
    let row = await findJob(deps.pool, job);
    refuseFinal(job, statusOf(row));
    // The transition first: when it is illegal (409) nothing else is written. A retry after a
    // failure further on repeats it as a no-op and completes the rest.
    const before = statusOf(row);
    if (report.status) {
      const transition = (to: JobStatus): Promise<JobRow> =>
        job.kind === 'build' ? transitionBuildStatus(deps.pool, job.id, to) : job.kind === 'release' ? transitionReleaseStatus(deps.pool, job.id, to) : transitionBotStatus(deps.pool, job.id, to);
      // A builder stopped by SIGTERM without an API cancel (Ctrl-C in local mode, a deleted or
      // evicted pod) reports `canceled` while its job is still `running`: walk the state
      // machine's path, running → canceling → canceled.
      if (report.status === 'canceled' && statusOf(row) === 'running') await transition('canceling');
      row = await transition(report.status);
    }
    if (before !== statusOf(row)) countTransition(deps.log, job, row);
    if (report.stages?.length) await upsertStageRuns(deps.pool, job.kind, job.id, report.stages);
    liveBestEffort(job, { status: report });
    if (report.status) await emit(row, report.status);
    return json(202, { status: statusOf(row) });
  }

  return async (req) => {
    const m = ROUTE.exec(req.path);
    if (!m) throw new HttpError(404, `no route ${req.method} ${req.path}`);
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} not allowed; use POST`);
    const id = m[2]!;
    if (!isId(id)) throw new HttpError(404, `unknown job id '${m[2]!.slice(0, 40)}'`);
    const job: JobClaim = { kind: KIND[m[1] as keyof typeof KIND], id };
    await authorise(req, deps.jwtKey, job, tokens, clock);
    // A final job's token writes nothing, not even a heartbeat. The one exception is the final
    // report itself sent again (its first answer was lost): acknowledged, so the builder does not
    // count it undelivered and exit non-zero, and still nothing is written.
    const current = await jobStatus(job);
    if (current && isFinalJobStatus(current)) {
      if (m[3] === 'status' && parseStatusReport(parseBody(req)).status === current) return json(202, { status: current, duplicate: true });
      refuseFinal(job, current);
    }
    // Every report shows the builder is alive; recorded at most every HEARTBEAT_WRITE_MS per job.
    await heartbeat(job);
    if (m[3] === 'heartbeat') {
      // Accepted (authorised and well-formed) and not yet recorded: the request itself shows the builder is alive.
      parseHeartbeat(parseBody(req));
      return json(202, {});
    }
    return m[3] === 'logs' ? logs(job, req) : status(job, req);
  };
}
