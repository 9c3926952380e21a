/**
 * Queries of the `webhook_deliveries` table: forges redeliver webhooks, and each delivery id
 * must start at most one build.
 */
import type { Forge } from '../events/types.ts';
import type { Db } from './pool.ts';

/** True when the delivery was recorded before (webhook-ingest checks this before publishing). */
export async function deliverySeen(db: Db, forge: Forge, deliveryId: string): Promise<boolean> {
  const r = await db.query('SELECT 1 FROM webhook_deliveries WHERE forge = $1 AND delivery_id = $2', [forge, deliveryId]);
  return (r.rowCount ?? 0) > 0;
}

/** Records a delivery; true the first time, false when it was seen before. */
export async function recordDelivery(db: Db, forge: Forge, deliveryId: string): Promise<boolean> {
  const r = await db.query(
    'INSERT INTO webhook_deliveries (forge, delivery_id) VALUES ($1, $2) ON CONFLICT (forge, delivery_id) DO NOTHING',
    [forge, deliveryId],
  );
  return r.rowCount === 1;
}

/** Forgets deliveries received before `before` (forges stop redelivering after hours); returns how many. */
export async function pruneDeliveries(db: Db, before: Date): Promise<number> {
  const r = await db.query('DELETE FROM webhook_deliveries WHERE received_at < $1', [before]);
  return r.rowCount ?? 0;
}
