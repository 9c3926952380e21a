/**
 * cron-relay's record of the minutes it has processed, so a tick knows which missed minutes to
 * catch up. Kept in `cron_firings` under the reserved trigger id 0 — trigger ids from newId are
 * never 0 and the table has no foreign key — so a minute marker and a trigger firing are the
 * same kind of row: claimed with ON CONFLICT, pruned together, and the latest marker is one
 * index seek on the (trigger_id, minute) primary key.
 */
import { claimCronFiring } from '../../shared/db/triggers.ts';
import type { Db } from '../../shared/db/pool.ts';

/** The reserved trigger id of minute markers. */
const MINUTE_MARKER_ID = '0';

/** The newest minute marked processed, or null before the first tick. */
export async function lastProcessedMinute(db: Db): Promise<Date | null> {
  const r = await db.query<{ minute: Date | null }>('SELECT max(minute) AS minute FROM cron_firings WHERE trigger_id = $1', [MINUTE_MARKER_ID]);
  return r.rows[0]?.minute ?? null;
}

/** Marks the minute of `at` processed (idempotent). */
export async function markMinuteProcessed(db: Db, at: Date): Promise<void> {
  await claimCronFiring(db, MINUTE_MARKER_ID, at);
}
