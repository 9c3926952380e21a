/**
 * The triggers of a pipeline as the API serves them: the stored manifest trigger, and for a cron
 * trigger also the time zone its schedule is read in (UTC), when it fires next, and the job its
 * last firing started — found through the request id a firing derives from (minute, trigger),
 * which the job it made carries as its event id.
 */
import type pg from 'pg';
import { getBuildByEvent } from '../../shared/db/builds.ts';
import { getReleaseByEvent } from '../../shared/db/releases.ts';
import { lastCronFirings, nextCronFiring, type StoredTrigger } from '../../shared/db/triggers.ts';
import { derivedEventId } from '../../shared/triggers/fire-triggers.ts';

/** The API objects of `triggers`, described as of `now`. */
export async function describeTriggers(pool: pg.Pool, triggers: StoredTrigger[], now = new Date()) {
  const fired = await lastCronFirings(
    pool,
    triggers.filter((t) => t.kind === 'cron').map((t) => t.id),
  );
  return Promise.all(
    triggers.map(async (t) => {
      const base = { kind: t.kind, name: t.name || null, jobKind: t.jobKind, jobName: t.jobName || null, filter: t.filter, action: t.action };
      if (t.kind !== 'cron') return base;
      const minute = fired.get(t.id);
      let lastFired: Record<string, unknown> | null = null;
      if (minute) {
        const eventId = derivedEventId(`cron/${minute.toISOString()}`, t.id);
        const job = t.jobKind === 'release' ? await getReleaseByEvent(pool, eventId) : await getBuildByEvent(pool, eventId);
        lastFired = {
          at: minute.toISOString(),
          ...(job && 'buildVersion' in job ? { build: { id: job.id, buildNumber: job.buildNumber, buildVersion: job.buildVersion, buildStatus: job.buildStatus } } : {}),
          ...(job && 'releaseVersion' in job ? { release: { id: job.id, releaseVersion: job.releaseVersion, releaseStatus: job.releaseStatus } } : {}),
        };
      }
      const next = t.schedule ? nextCronFiring(t.schedule, now) : null;
      return { ...base, timeZone: 'UTC', nextFireAt: next?.toISOString() ?? null, lastFired };
    }),
  );
}
