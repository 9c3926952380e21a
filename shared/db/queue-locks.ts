/**
 * Queries of the `queue_locks` table: one row per queue ('builds', 'releases'). Admission takes
 * its queue's row with SELECT … FOR UPDATE at the start of its transaction, so two build-dispatch
 * instances never count the same free slot twice — a row lock works the same on PostgreSQL and
 * CockroachDB, where advisory locks do not exist.
 */
import type { Db } from './pool.ts';

/** The queues that have a lock row (created by migration 0240). */
const QUEUES = ['builds', 'releases'] as const;
export type QueueName = (typeof QUEUES)[number];

/** Locks queue `name` until the caller's transaction ends (call inside withTransaction). */
export async function lockQueue(tx: Db, name: QueueName): Promise<void> {
  const r = await tx.query('SELECT name FROM queue_locks WHERE name = $1 FOR UPDATE', [name]);
  // The row comes from the migration; a missing one means an unmigrated database, not a race.
  if (r.rowCount === 0) throw new Error(`queue_locks has no row '${name}': run the migrations`);
}
