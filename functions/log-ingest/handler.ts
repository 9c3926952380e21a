/**
 * log-ingest: the builder's endpoint for log batches and status reports
 * (shared/logs/protocol.ts). Each request is authorised by the job's token (a token for one job
 * cannot write another), validated whole at the edge, then written: lines with one idempotent
 * multi-row insert, statuses through the state machine. Only after the write are they published
 * on live logs for SSE viewers, and a job going running / final emits `*.started` / `*.finished`
 * with an id derived from (job, status) so a resent report cannot start anything twice.
 * A job's token ends with the job: once the build or release is final (its builder reported
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
import { upsertStageRuns } from '../../shared/db/stages.ts';
import { HttpError } from '../../shared/errors/http-error.ts';
import { json, type HttpHandler, type HttpRequest, type HttpResponse } from '../../shared/http/types.ts';
import type { StatusReport } from '../../shared/logs/protocol.ts';
import type { Publish } from '../../shared/runtime/runtime.ts';
import { isFinalJobStatus, type JobStatus } from '../../shared/status/status.ts';
import { jobStatusEvent } from '../../shared/events/job-status-events.ts';
import { parseBody, parseHeartbeat, parseLogBatch, parseStatusReport } from './validate.ts';
import type { Logger } from '../../shared/log/logger.ts';
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

/** The job row (builds and releases are stored; bots have no row, their token is the proof). */
async function findJob(pool: pg.Pool, job: JobClaim): Promise<Build | Release | null> {
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
  return null;
}

const statusOf = (row: Build | Release): JobStatus => ('buildStatus' in row ? row.buildStatus : row.releaseStatus);

/** Throws 409 when the job is final: its token writes nothing more. */
function refuseFinal(job: JobClaim, status: JobStatus | undefined): void {
  if (status && isFinalJobStatus(status)) {
    throw new HttpError(409, `${job.kind} ${job.id} is already ${status}: it accepts no more log lines or reports`);
  }
}

/** The status of a build or release (404 when there is none); undefined for bots, which have no row. */
async function currentStatus(pool: pg.Pool, job: JobClaim): Promise<JobStatus | undefined> {
  if (job.kind === 'bot') return undefined;
  const status = job.kind === 'build' ? await getBuildStatus(pool, job.id) : await getReleaseStatus(pool, job.id);
  if (!status) throw new NotFoundError(`${job.kind} ${job.id}`);
  return status;
}
const seconds = (from: string | null, to: string | null): number | undefined => (from && to ? (Date.parse(to) - Date.parse(from)) / 1000 : undefined);

/** Logs and counts a job that just changed status: started (with its queue wait) or finished (with its duration). */
function countTransition(log: Logger, job: JobClaim, row: Build | Release): void {
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
  const lastBeat = new Map<string, number>();
  async function heartbeat(job: JobClaim): Promise<void> {
    if (job.kind === 'bot') return;
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
    logLinesIngested(job.kind, lines.length, lines.reduce((n, l) => n + Buffer.byteLength(l.text), 0));
    if (lines.length) deps.liveLogs.publish(job.kind, job.id, { lines });
    return json(202, { accepted: lines.length, stored });
  }

  /** Throws 409 when the job is final (remembered: a final job never changes again); 404 when there is no such job. */
  async function stillActive(job: JobClaim): Promise<void> {
    const key = `${job.kind}/${job.id}`;
    const status = finals.get(key) ?? (await currentStatus(deps.pool, job));
    if (status && isFinalJobStatus(status) && !finals.has(key)) {
      if (finals.size >= 10_000) finals.clear();
      finals.set(key, status);
    }
    refuseFinal(job, status);
  }

  async function emit(row: Build | Release, status: JobStatus): Promise<void> {
    const e = jobStatusEvent(row, status);
    if (e) await deps.publish(...eventArgs(e), { id: e.id, subject: row.id });
  }

  async function status(job: JobClaim, req: HttpRequest): Promise<HttpResponse> {
    const report: StatusReport = parseStatusReport(parseBody(req));
    let row = await findJob(deps.pool, job);
    refuseFinal(job, row ? statusOf(row) : undefined);
    // The transition first: when it is illegal (409) nothing else is written. A retry after a
    // failure further on repeats it as a no-op and completes the rest.
    const before = row ? statusOf(row) : undefined;
    if (report.status && row) {
      const transition = (to: JobStatus) => (job.kind === 'build' ? transitionBuildStatus(deps.pool, job.id, to) : transitionReleaseStatus(deps.pool, job.id, to));
      // A builder stopped by SIGTERM without an API cancel (Ctrl-C in local mode, a deleted or
      // evicted pod) reports `canceled` while its job is still `running`: walk the state
      // machine's path, running → canceling → canceled.
      if (report.status === 'canceled' && ('buildStatus' in row ? row.buildStatus : row.releaseStatus) === 'running') await transition('canceling');
      row = await transition(report.status);
    }
    if (row && before !== statusOf(row)) countTransition(deps.log, job, row);
    if (report.stages?.length) await upsertStageRuns(deps.pool, job.kind, job.id, report.stages);
    deps.liveLogs.publish(job.kind, job.id, { status: report });
    if (report.status && row) await emit(row, report.status);
    const current = row ? ('buildStatus' in row ? row.buildStatus : row.releaseStatus) : report.status;
    return json(202, { status: current ?? null });
  }

  return async (req) => {
    const m = ROUTE.exec(req.path);
    if (!m) throw new HttpError(404, `no route ${req.method} ${req.path}`);
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} not allowed; use POST`);
    const id = m[2]!;
    if (!isId(id)) throw new HttpError(404, `unknown job id '${m[2]!.slice(0, 40)}'`);
    const job: JobClaim = { kind: KIND[m[1] as keyof typeof KIND], id };
    await authorise(req, deps.jwtKey, job, tokens, clock);
    // A final job's token writes nothing, not even a heartbeat.
    await stillActive(job);
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
