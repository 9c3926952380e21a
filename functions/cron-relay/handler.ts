/**
 * cron-relay: the CloudEvent handler driven once a minute by a tick (PingSource, local timer or
 * CronJob — see tick.ts). For each minute from the one after the last processed minute (at most
 * CATCH_UP_MINUTES back) to the tick's minute it fires the cron triggers due then (fire-cron.ts)
 * and marks the minute processed; so duplicated or concurrent ticks fire nothing twice and a
 * minute whose tick was missed is caught up once by the next tick. Then housekeeping ends
 * builds and releases whose Job died and, hourly, forgets old processed-event marks
 * (housekeeping.ts); and a `queue.advance` (one per minute,
 * its id derived from the minute) is the backstop of scheduling: build-dispatch admits what a
 * lost event left waiting and expires approvals — scheduling never waits on a timer of its own.
 */
import { minuteOf, pruneCronFirings } from '../../shared/db/triggers.ts';
import type { CronRelayDeps } from './deps.ts';
import { fireCronMinute } from './fire-cron.ts';
import { forgetProcessedEvents, reconcileJobs } from './housekeeping.ts';
import { lastProcessedMinute, markMinuteProcessed } from './minutes.ts';
import { isTick, parseTick, type TickEvent } from './tick.ts';
import { derivedEventId } from '../../shared/triggers/fire-triggers.ts';
import { systemClock } from '../../shared/time/clock.ts';

/** How many minutes before the tick's a missed minute is still caught up. */
const CATCH_UP_MINUTES = 5;
/** Ticks further ahead of the clock than this are ignored (a skewed or forged time). */
const MAX_AHEAD_MS = 60_000;
/** Firings (and minute markers) are kept this long, far beyond any catch-up. */
const KEEP_FIRINGS_MS = 24 * 60 * 60_000;

export type CronRelayHandler = (event: TickEvent) => Promise<void>;

/** The cron-relay event handler. Throws ValidationError for a tick without a usable time. */
export function makeHandler(deps: CronRelayDeps): CronRelayHandler {
  return async (event) => {
    if (!isTick(event)) return; // not ours
    const tick = parseTick(event);
    const now = new Date((deps.clock ?? systemClock).now());
    const tickMinute = minuteOf(tick.time);
    const oldest = tickMinute.getTime() - CATCH_UP_MINUTES * 60_000;
    if (tickMinute.getTime() > now.getTime() + MAX_AHEAD_MS) {
      deps.log.info(`cron tick ${tick.id} for ${tickMinute.toISOString()} is ahead of the clock (${now.toISOString()}): no cron triggers fired`);
    } else if (tickMinute.getTime() < minuteOf(now).getTime() - CATCH_UP_MINUTES * 60_000) {
      deps.log.info(`cron tick ${tick.id} for ${tickMinute.toISOString()} arrived more than ${CATCH_UP_MINUTES} min late: no cron triggers fired`);
    } else {
      const last = await lastProcessedMinute(deps.pool);
      // The very first tick starts at its own minute: there is no missed minute to catch up.
      const from = last ? Math.max(last.getTime() + 60_000, oldest) : tickMinute.getTime();
      for (let m = from; m <= tickMinute.getTime(); m += 60_000) {
        const minute = new Date(m);
        const fired = await fireCronMinute(deps, minute);
        await markMinuteProcessed(deps.pool, minute);
        if (fired > 0) deps.log.info(`cron ${minute.toISOString()}: ${fired} trigger(s) fired${m < tickMinute.getTime() ? ' (caught up)' : ''}`);
      }
      if (tickMinute.getUTCMinutes() === 0) await pruneCronFirings(deps.pool, new Date(tickMinute.getTime() - KEEP_FIRINGS_MS));
    }
    try {
      await reconcileJobs(deps, now);
      // Hourly, like the firings above: the marks only grow otherwise.
      if (minuteOf(now).getUTCMinutes() === 0) {
        const forgotten = await forgetProcessedEvents(deps, now);
        if (forgotten > 0) deps.log.info({ forgotten }, `housekeeping: ${forgotten} processed-event mark(s) older than 7 days forgotten`);
      }
    } catch (err) {
      // Housekeeping runs again on the next tick; failing the tick would only redeliver the
      // (already fired) cron minute and retry the same unreachable API server.
      deps.log.warn({ error: (err as Error).message }, 'housekeeping failed; it runs again on the next tick');
    }
    // After housekeeping, so slots it freed are handed out in the same minute.
    await deps.publish('queue.advance', { reason: 'tick' }, { id: derivedEventId('queue.advance', minuteOf(now).toISOString()) });
  };
}
