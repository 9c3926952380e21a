/**
 * Approval expiry: a release still awaiting approval after its target's `approval.expiresAfter`
 * is canceled with the reason "approval expired". Checked on every `queue.advance` (cron-relay's
 * tick, so within a minute of the deadline); query-api refuses decisions after the deadline too.
 */
import { systemClock } from '../../../shared/time/clock.ts';
import { getRelease, listExpiredApprovals } from '../../../shared/db/releases.ts';
import type { DispatchDeps } from '../deps.ts';
import { cancelRun } from '../cancel.ts';

/** Cancels the releases whose approval deadline has passed; returns their ids. */
export async function expireApprovals(deps: DispatchDeps): Promise<string[]> {
  const now = new Date((deps.clock ?? systemClock).now());
  const out: string[] = [];
  for (const w of await listExpiredApprovals(deps.pool, now)) {
    const r = await getRelease(deps.pool, w.id);
    if (!r || r.releaseStatus !== 'awaiting-approval') continue;
    const after = r.approval?.expiresAfterSeconds;
    await cancelRun(deps, r, `approval expired: not approved within ${after ? formatSeconds(after) : 'its deadline'}`);
    out.push(r.id);
  }
  return out;
}

const formatSeconds = (s: number): string => (s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);
