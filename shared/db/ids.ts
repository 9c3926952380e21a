/**
 * Application-generated INT8 ids: (milliseconds since 2024-01-01 UTC) << 22 | 22 low bits, as
 * decimal strings. Time-ordered (so "newest first" can order by id), unique enough across
 * processes (random low bits) and strictly increasing within one process. No SERIAL or
 * unique_rowid(), so the same schema works on PostgreSQL and CockroachDB.
 */
import { randomInt } from 'node:crypto';

const EPOCH_MS = Date.UTC(2024, 0, 1);
const LOW_BITS = 22n;
const LOW_MAX = (1 << 22) - 1;

let lastMs = -1;
let lastLow = 0;

/** A new id, greater than every id this process returned before. */
export function newId(): string {
  let ms = Date.now() - EPOCH_MS;
  if (ms < lastMs) ms = lastMs; // clock stepped back: keep ids increasing
  let low: number;
  if (ms === lastMs) {
    low = lastLow + 1;
    if (low > LOW_MAX) {
      ms = lastMs + 1; // 4M ids in one ms: borrow the next millisecond
      low = randomInt(0, 1 << 21);
    }
  } else {
    // Start in the lower half so many ids fit in the same millisecond after it.
    low = randomInt(0, 1 << 21);
  }
  lastMs = ms;
  lastLow = low;
  return ((BigInt(ms) << LOW_BITS) | BigInt(low)).toString();
}

/** The creation time encoded in an id from newId(). */
export const idTime = (id: string): Date => new Date(Number(BigInt(id) >> LOW_BITS) + EPOCH_MS);

/** True when `v` is a positive decimal INT8 (what ids look like on the wire). */
export const isId = (v: unknown): v is string => typeof v === 'string' && /^[1-9][0-9]{0,18}$/.test(v) && BigInt(v) <= 9223372036854775807n;
