/**
 * Queries of the `log_lines` table. A line's identity is (job, seq) with one gap-free seq
 * counter per job (shared/logs/protocol.ts), so appending a resent batch is a no-op and
 * lines read back in seq order.
 */
import { ANSI_ESCAPE_SOURCE } from '../logs/ansi-text.ts';
import type { LogLine } from '../logs/protocol.ts';
import pg from 'pg';
import { sqlState, type Db } from './pool.ts';
import type { JobKind } from './stages.ts';

/** One field in COPY's text format (backslash, tab, newline and carriage return escaped). */
const copyField = (v: string): string => (/[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : v);

/**
 * `COPY … FROM STDIN` with its data in one chunk, run through pg's query queue (pg has no COPY
 * API of its own; this is the protocol exchange pg-copy-streams performs).
 */
class CopyIn extends pg.Query {
  constructor(
    text: string,
    private readonly data: Buffer,
    callback: (err: Error | undefined, result: pg.QueryResult) => void,
  ) {
    super(text, undefined, callback);
  }
  handleCopyInResponse(connection: { sendCopyFromChunk(b: Buffer): void; endCopyFrom(): void }): void {
    connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }
}

/** Stores lines with COPY on a pooled connection; rejects (nothing written) if any line exists. */
async function copyLines(pool: pg.Pool, kind: JobKind, jobId: string, lines: LogLine[]): Promise<number> {
  const data = Buffer.from(lines.map((l) => `${kind}\t${jobId}\t${l.seq}\t${copyField(l.stage)}\t${l.run}\t${l.time}\t${l.stream}\t${copyField(l.text)}\n`).join(''));
  const client = await pool.connect();
  try {
    const result = await new Promise<pg.QueryResult>((resolve, reject) => {
      client.query(new CopyIn('COPY log_lines (job_kind, job_id, seq, stage, run, time, stream, text) FROM STDIN', data, (err, r) => (err ? reject(err) : resolve(r))));
    });
    return result.rowCount ?? lines.length;
  } finally {
    client.release();
  }
}

/** Stores lines with one INSERT … SELECT FROM unnest(<one array per column>) ON CONFLICT DO NOTHING. */
async function insertLines(db: Db, kind: JobKind, jobId: string, lines: LogLine[]): Promise<number> {
  const r = await db.query(
    `INSERT INTO log_lines (job_kind, job_id, seq, stage, run, time, stream, text)
     SELECT $1, $2::INT8, l.seq, l.stage, l.run, l.time, l.stream, l.text
     FROM unnest($3::INT8[], $4::TEXT[], $5::INT4[], $6::TIMESTAMPTZ[], $7::TEXT[], $8::TEXT[]) AS l (seq, stage, run, time, stream, text)
     ON CONFLICT (job_kind, job_id, seq) DO NOTHING`,
    [kind, jobId, lines.map((l) => l.seq), lines.map((l) => l.stage), lines.map((l) => l.run), lines.map((l) => l.time), lines.map((l) => l.stream), lines.map((l) => l.text)],
  );
  return r.rowCount ?? 0;
}

/**
 * Stores a batch of lines; lines already stored are skipped. Resolves to the number of lines
 * newly stored. Given the pool, a batch goes in with COPY (PostgreSQL's bulk path, ~1.7× the rows
 * per second of an INSERT); COPY cannot skip duplicates, so a batch that collides with stored
 * lines (a resend) fails whole and is written again with INSERT … ON CONFLICT DO NOTHING — as is
 * every batch given a client (which may be inside a transaction a failed COPY would abort).
 */
export async function appendLogLines(db: Db, kind: JobKind, jobId: string, lines: LogLine[]): Promise<number> {
  if (lines.length === 0) return 0;
  if (db instanceof pg.Pool) {
    try {
      return await copyLines(db, kind, jobId, lines);
    } catch (err) {
      // Any SQL error (duplicate key, or a database without COPY): the INSERT decides. Others (connection) are real.
      if (!sqlState(err)) throw err;
    }
  }
  return insertLines(db, kind, jobId, lines);
}

/** Where to read from. */
export interface ReadLogOptions {
  /** Only lines with a greater seq (default: from the start). */
  afterSeq?: number;
  /** At most this many lines (default 5000, max 50000). */
  limit?: number;
  /** Only this stage path. */
  stage?: string;
}

/** Stored lines of a job in seq order. */
export async function readLogLines(db: Db, kind: JobKind, jobId: string, opts: ReadLogOptions = {}): Promise<LogLine[]> {
  const limit = Math.min(50_000, Math.max(1, opts.limit ?? 5000));
  const r = await db.query<{ seq: string; stage: string; run: number; time: Date; stream: LogLine['stream']; text: string }>(
    `SELECT seq, stage, run, time, stream, text FROM log_lines
     WHERE job_kind = $1 AND job_id = $2 AND seq > $3 AND ($4::TEXT IS NULL OR stage = $4::TEXT)
     ORDER BY seq LIMIT $5`,
    [kind, jobId, opts.afterSeq ?? -1, opts.stage ?? null, limit],
  );
  return r.rows.map((l) => ({ seq: Number(l.seq), stage: l.stage, run: l.run, time: l.time.toISOString(), stream: l.stream, text: l.text }));
}

/** Where a search hit: the line's seq and its stage run. */
export interface LogMatch {
  seq: number;
  stage: string;
  run: number;
}

/**
 * The lines of a job whose text contains `text` — case-insensitive, compared with terminal
 * escapes removed (as the line is shown; only lines holding an escape pay for removing them) —
 * in seq order, at most `limit` (default 10 000); with `truncated` when there are more. Reads
 * the job's key range once, so a 1M-line log is one scan.
 */
export async function searchLogLines(db: Db, kind: JobKind, jobId: string, text: string, opts: { stage?: string; limit?: number } = {}): Promise<{ matches: LogMatch[]; truncated: boolean }> {
  const limit = Math.min(100_000, Math.max(1, opts.limit ?? 10_000));
  const r = await db.query<{ seq: string; stage: string; run: number }>(
    `SELECT seq, stage, run FROM log_lines
     WHERE job_kind = $1 AND job_id = $2 AND ($4::TEXT IS NULL OR stage = $4::TEXT)
       AND strpos(lower(CASE WHEN strpos(text, chr(27)) > 0 THEN regexp_replace(text, $5, '', 'g') ELSE text END), lower($3)) > 0
     ORDER BY seq LIMIT $6`,
    [kind, jobId, text, opts.stage ?? null, ANSI_ESCAPE_SOURCE, limit + 1],
  );
  const matches = r.rows.slice(0, limit).map((m) => ({ seq: Number(m.seq), stage: m.stage, run: m.run }));
  return { matches, truncated: r.rows.length > limit };
}

/** The seq for a line written by the system itself: one past the stored maximum (0 for none). */
export async function nextSystemLogSeq(db: Db, kind: JobKind, jobId: string): Promise<number> {
  const r = await db.query<{ next: string }>('SELECT COALESCE(max(seq) + 1, 0) AS next FROM log_lines WHERE job_kind = $1 AND job_id = $2', [kind, jobId]);
  return Number(r.rows[0]!.next);
}

/** How many stored lines each stage run of a job has up to and including `uptoSeq` (keyed `stage\0run`), for numbering lines within their step. */
export async function countLinesPerStageRun(db: Db, kind: JobKind, jobId: string, uptoSeq: number): Promise<Map<string, number>> {
  if (uptoSeq < 0) return new Map();
  const r = await db.query<{ stage: string; run: number; n: string }>('SELECT stage, run, count(*) AS n FROM log_lines WHERE job_kind = $1 AND job_id = $2 AND seq <= $3 GROUP BY stage, run', [kind, jobId, uptoSeq]);
  return new Map(r.rows.map((x) => [`${x.stage}\u0000${x.run}`, Number(x.n)]));
}
