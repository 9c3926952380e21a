/**
 * Fires the cron triggers due in one minute. Each (trigger, minute) is claimed in cron_firings
 * in the same transaction that publishes its request, so duplicated ticks and concurrent
 * instances fire it once (a second claimant waits for the first's commit, then finds the row),
 * and a failed publish rolls the claim back for the redelivered tick to retry. The request's
 * id derives from (trigger, minute): a publish that went out before a failed commit is dropped
 * as a repeat by the bus and by dispatch.
 */
import { withTransaction } from '../../shared/db/pool.ts';
import { claimCronFiring, dueCronTriggers } from '../../shared/db/triggers.ts';
import { getPipelineById } from '../../shared/db/pipelines.ts';
import { fireTrigger, normalizedOf } from '../../shared/triggers/fire-triggers.ts';
import { cronFields } from '../../shared/triggers/trigger-fields.ts';
import type { CronRelayDeps } from './deps.ts';

/** Fires every cron trigger due in the minute of `minute`; returns how many this call fired. */
export async function fireCronMinute(deps: CronRelayDeps, minute: Date): Promise<number> {
  let fired = 0;
  for (const t of await dueCronTriggers(deps.pool, minute)) {
    const owner = await getPipelineById(deps.pool, t.pipelineId);
    const n = normalizedOf(t);
    if (!owner || owner.archived || !n || n.filter.kind !== 'cron') continue;
    const schedule = n.filter.schedule;
    // The transaction may be re-run on a serialization failure; publishing again is harmless
    // because the request id is the same.
    const claimed = await withTransaction(deps.pool, async (tx) => {
      if (!(await claimCronFiring(tx, t.id, minute))) return false;
      await fireTrigger(deps, owner, t, n, {
        sourceId: `cron/${minute.toISOString()}`,
        trigger: { event: 'cron', fields: cronFields(schedule, minute) },
        chainDepth: 0,
      });
      return true;
    });
    if (claimed) fired++;
  }
  return fired;
}
