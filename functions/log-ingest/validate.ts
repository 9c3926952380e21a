/**
 * Edge validation of what a builder sends log-ingest (shared/logs/protocol.ts): every field of a
 * log batch or status report is checked for type and bounds before anything is written, so a
 * bad report is refused whole (400/413) and the rest of the system only sees precise types.
 */
import { HttpError, ValidationError } from '../../shared/errors/http-error.ts';
import { readJsonObject } from '../../shared/http/json-body.ts';
import type { HttpRequest } from '../../shared/http/types.ts';
import { LOG_STREAMS, MAX_BATCH_BYTES, MAX_BATCH_LINES, type Heartbeat, type LogLine, type LogStream, type StageReport, type StatusReport } from '../../shared/logs/protocol.ts';
import { isJobStatus, isStageStatus } from '../../shared/status/status.ts';

/** Longest text of one line in characters; a builder splits longer output. */
const MAX_LINE_CHARS = 64 * 1024;
/** Longest stage path and stage message. */
const MAX_STAGE_CHARS = 512;
const MAX_MESSAGE_CHARS = 4096;
/** Most stage reports in one status report. */
const MAX_STAGE_REPORTS = 1000;

const STAGE_KINDS = ['stage', 'parallel', 'service', 'builtin'] as const;

/** The request's body as a JSON object (shared/http/json-body.ts): 413 over MAX_BATCH_BYTES, 415 not JSON, 400 not a JSON object. */
export const parseBody = (req: Pick<HttpRequest, 'rawBody' | 'headers'>): Record<string, unknown> => readJsonObject(req, { maxBytes: MAX_BATCH_BYTES });

const isInt = (v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isTime = (v: unknown): v is string => typeof v === 'string' && v.length <= 40 && /^\d{4}-\d\d-\d\dT/.test(v) && !Number.isNaN(Date.parse(v));
// What the builder sends (Date#toISOString): kept as it is; any other valid form is normalised to it.
const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
// No NUL: PostgreSQL TEXT cannot hold it (the insert would fail as a 500). Other characters are stored as they are.
const isStage = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_STAGE_CHARS && !v.includes('\u0000');

/** A log batch with every line checked; lines come back sorted by seq. */
export function parseLogBatch(body: Record<string, unknown>): LogLine[] {
  const lines = body.lines;
  if (!Array.isArray(lines)) throw new ValidationError('lines must be an array');
  if (lines.length > MAX_BATCH_LINES) throw new HttpError(413, `batch of ${lines.length} lines is over the limit of ${MAX_BATCH_LINES}`);
  const out = lines.map((l: unknown, i): LogLine => {
    const at = `lines[${i}]`;
    if (l === null || typeof l !== 'object' || Array.isArray(l)) throw new ValidationError(`${at} must be an object`);
    const o = l as Record<string, unknown>;
    if (!isInt(o.seq, 0)) throw new ValidationError(`${at}.seq must be an integer ≥ 0`);
    if (!isStage(o.stage)) throw new ValidationError(`${at}.stage must be a non-empty string of at most ${MAX_STAGE_CHARS} characters without NUL`);
    if (!isInt(o.run, 1, 1_000_000)) throw new ValidationError(`${at}.run must be an integer ≥ 1`);
    if (!isTime(o.time)) throw new ValidationError(`${at}.time must be an ISO-8601 time`);
    if (!LOG_STREAMS.includes(o.stream as LogStream)) throw new ValidationError(`${at}.stream must be one of ${LOG_STREAMS.join(', ')}`);
    if (typeof o.text !== 'string') throw new ValidationError(`${at}.text must be a string`);
    if (o.text.length > MAX_LINE_CHARS) throw new HttpError(413, `${at}.text is longer than ${MAX_LINE_CHARS} characters`);
    // PostgreSQL TEXT cannot hold NUL; programs do print it. Replaced deterministically so a resend stays identical.
    const text = o.text.includes('\u0000') ? o.text.replaceAll('\u0000', '\uFFFD') : o.text;
    const time = CANONICAL_TIME.test(o.time) ? o.time : new Date(o.time).toISOString();
    return { seq: o.seq, stage: o.stage, run: o.run, time, stream: o.stream as LogStream, text };
  });
  return out.sort((a, b) => a.seq - b.seq);
}

function parseStageReport(s: unknown, at: string): StageReport {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new ValidationError(`${at} must be an object`);
  const o = s as Record<string, unknown>;
  if (!isStage(o.stage)) throw new ValidationError(`${at}.stage must be a non-empty string of at most ${MAX_STAGE_CHARS} characters without NUL`);
  if (!isInt(o.run, 1, 1_000_000)) throw new ValidationError(`${at}.run must be an integer ≥ 1`);
  if (!STAGE_KINDS.includes(o.kind as StageReport['kind'])) throw new ValidationError(`${at}.kind must be one of ${STAGE_KINDS.join(', ')}`);
  if (!isStageStatus(o.status)) throw new ValidationError(`${at}.status is not a stage status`);
  if (o.parent !== undefined && o.parent !== null && !isStage(o.parent)) throw new ValidationError(`${at}.parent must be a stage path (no NUL)`);
  for (const k of ['startedAt', 'finishedAt'] as const) {
    if (o[k] !== undefined && o[k] !== null && !isTime(o[k])) throw new ValidationError(`${at}.${k} must be an ISO-8601 time`);
  }
  if (o.durationMs !== undefined && o.durationMs !== null && !isInt(o.durationMs, 0)) throw new ValidationError(`${at}.durationMs must be an integer ≥ 0`);
  if (o.message !== undefined && o.message !== null && (typeof o.message !== 'string' || o.message.length > MAX_MESSAGE_CHARS)) {
    throw new ValidationError(`${at}.message must be a string of at most ${MAX_MESSAGE_CHARS} characters`);
  }
  const r: StageReport = { stage: o.stage, run: o.run, kind: o.kind as StageReport['kind'], status: o.status };
  if (typeof o.parent === 'string') r.parent = o.parent;
  if (typeof o.startedAt === 'string') r.startedAt = o.startedAt;
  if (typeof o.finishedAt === 'string') r.finishedAt = o.finishedAt;
  if (typeof o.durationMs === 'number') r.durationMs = o.durationMs;
  if (typeof o.message === 'string') r.message = o.message.replaceAll('\u0000', '\uFFFD');
  return r;
}

/** A status report with its job status and every stage report checked; at least one of them. */
export function parseStatusReport(body: Record<string, unknown>): StatusReport {
  const out: StatusReport = {};
  if (body.status !== undefined) {
    if (!isJobStatus(body.status)) throw new ValidationError('status is not a job status');
    out.status = body.status;
  }
  if (body.stages !== undefined) {
    if (!Array.isArray(body.stages)) throw new ValidationError('stages must be an array');
    if (body.stages.length > MAX_STAGE_REPORTS) throw new HttpError(413, `more than ${MAX_STAGE_REPORTS} stage reports`);
    out.stages = body.stages.map((s, i) => parseStageReport(s, `stages[${i}]`));
  }
  if (out.status === undefined && !out.stages?.length) throw new ValidationError('a status report needs a status or stages');
  return out;
}

/** A heartbeat: its send time checked. */
export function parseHeartbeat(body: Record<string, unknown>): Heartbeat {
  if (!isTime(body.sentAt)) throw new ValidationError('sentAt must be an ISO-8601 time');
  return { sentAt: body.sentAt };
}
