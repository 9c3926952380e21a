/**
 * Queries of the `processed_events` table: the bus delivers at least once, so a consumer whose
 * effect is not naturally idempotent records each event id it handled.
 */
import type { Db } from './pool.ts';

/**
 * Records that `consumer` handled `eventId`; true the first time, false for a redelivery.
 * Call it with the transaction client of the work itself, so the mark and the effect commit
 * (or roll back) together.
 */
export async function markEventProcessed(db: Db, consumer: string, eventId: string): Promise<boolean> {
  const r = await db.query('INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT (consumer, event_id) DO NOTHING', [consumer, eventId]);
  return r.rowCount === 1;
}

/** Forgets marks older than `before` (beyond any redelivery window); returns how many. */
export async function pruneProcessedEvents(db: Db, before: Date): Promise<number> {
  const r = await db.query('DELETE FROM processed_events WHERE processed_at < $1', [before]);
  return r.rowCount ?? 0;
}
