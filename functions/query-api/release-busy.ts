/**
 * `ifBusy: "refuse"` of a release request: answer 409 at once when the target (and action)
 * already runs as many releases as its manifest allows (`concurrency`, default 1) or has
 * releases waiting, instead of queueing behind them. Best effort — two requests at the same
 * moment may both pass; build-dispatch then refuses the later one (ReleaseRequestedData.ifBusy).
 */
import type pg from 'pg';
import { getBuild } from '../../shared/db/builds.ts';
import { countActiveReleases, listReleases } from '../../shared/db/releases.ts';
import { HttpError } from '../../shared/errors/http-error.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import { releaseSchedule } from '../../shared/manifest/scheduling.ts';

/** Throws 409 when a release of `target` would have to wait. */
export async function refuseWhenBusy(pool: pg.Pool, target: { pipelineId: string; name: string; action: string; buildId: string }): Promise<void> {
  const build = await getBuild(pool, target.buildId, { withManifest: true });
  const manifest = build?.manifest ? loadManifest(build.manifest).manifest : undefined;
  const limit = manifest ? releaseSchedule(manifest, target.name).limit : 1;
  const active = await countActiveReleases(pool, target);
  const waiting = (await listReleases(pool, { pipelineId: target.pipelineId, target: target.name, statuses: ['queued', 'awaiting-approval'], size: 100 })).items.filter((r) => r.action === target.action);
  if (active >= limit || waiting.length > 0) {
    const what = `${target.name}${target.action ? `/${target.action}` : ''}`;
    throw new HttpError(409, `release target ${what} is busy: ${active} release(s) running (at most ${limit} at once)${waiting.length ? `, ${waiting.length} waiting` : ''}; send ifBusy "queue" to wait for it`);
  }
}
