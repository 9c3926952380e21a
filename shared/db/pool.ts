/**
 * The PostgreSQL/CockroachDB connection pool and the transaction wrapper every writer uses.
 * Ids are INT8 and arrive as decimal strings (JavaScript numbers cannot hold 64 bits).
 * Transactions retry on SQLSTATE 40001 (serialization failure — CockroachDB's "restart
 * transaction" error, and PostgreSQL's under SERIALIZABLE) with bounded, jittered backoff.
 */
import pg from 'pg';
import type { Logger } from '../log/logger.ts';

/** Anything that runs a query: the pool itself or a client inside a transaction. */
export type Db = Pick<pg.ClientBase, 'query'>;

/** Pool options; every field has a default suitable for a function instance. */
export interface PoolOptions {
  /** Max connections per process (functions scale out, so keep it small). */
  max?: number;
  /** Client-side limit for one query, in ms (server-side statement_timeout can go in the URL's `options`). */
  queryTimeoutMs?: number;
  /** How long to wait for a free connection or a new one, in ms. */
  connectTimeoutMs?: number;
  /** Idle connections are closed after this many ms (Knative scales to zero; don't hold connections). */
  idleTimeoutMs?: number;
  /** Where an idle connection's error is logged (default: stderr). */
  log?: Logger;
}

const POOL_DEFAULTS: Required<Omit<PoolOptions, 'log'>> = { max: 10, queryTimeoutMs: 30_000, connectTimeoutMs: 10_000, idleTimeoutMs: 30_000 };

// INT8 (oid 20) stays a string; every other type keeps pg's parser.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => v : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

/** A pg Pool for `url` (postgresql://… for both PostgreSQL and CockroachDB). */
export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const o = { ...POOL_DEFAULTS, ...options };
  const pool = new pg.Pool({
    connectionString: url,
    max: o.max,
    query_timeout: o.queryTimeoutMs,
    connectionTimeoutMillis: o.connectTimeoutMs,
    idleTimeoutMillis: o.idleTimeoutMs,
    types,
    application_name: 'estafette',
  });
  // An idle client losing its connection must not crash the process; the next checkout reconnects.
  // Connections still closing after end() are expected to be cut: not worth a line.
  pool.on('error', (err) => {
    if (pool.ending) return;
    if (o.log) o.log.warn({ error: err.message }, 'db: idle connection error');
    else console.error(`db: idle connection error: ${err.message}`);
  });
  return pool;
}

/** Retry policy of withTransaction. */
export interface RetryOptions {
  /** Total attempts including the first (default 10). */
  maxAttempts?: number;
  /** First backoff in ms, doubled each attempt (default 10). */
  baseDelayMs?: number;
  /** Upper bound of one backoff in ms (default 1000). */
  maxDelayMs?: number;
}
const RETRY_DEFAULTS: Required<RetryOptions> = { maxAttempts: 10, baseDelayMs: 10, maxDelayMs: 1000 };

/** SQLSTATE of an error thrown by pg, if any. */
export const sqlState = (err: unknown): string | undefined => (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined);

/** True for errors after which the whole transaction may simply be run again. */
const isRetryable = (err: unknown): boolean => sqlState(err) === '40001';

/**
 * Runs `fn` inside BEGIN … COMMIT on one pooled client and resolves to its result.
 * On SQLSTATE 40001 the transaction is rolled back and `fn` runs again (so `fn` must have no
 * side effects outside the database), up to `maxAttempts`, with exponential backoff + full jitter.
 * Any other error rolls back and is rethrown.
 */
export async function withTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const o = { ...RETRY_DEFAULTS, ...options };
  const client = await pool.connect();
  let broken = false;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        if (broken || !isRetryable(err) || attempt >= o.maxAttempts) throw err;
        const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
        await new Promise((r) => setTimeout(r, Math.random() * cap));
      }
    }
  } finally {
    // A connection whose ROLLBACK failed is in an unknown state: destroy it instead of reusing it.
    client.release(broken);
  }
}
