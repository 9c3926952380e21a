/**
 * Supersede: a push to a branch makes that branch's older builds pointless, so those still
 * queued, pending or running are canceled with the reason "superseded by build #N (revision)"
 * (GitLab's auto-cancel redundant pipelines, GitHub's cancel-in-progress). Only builds a push
 * started count on either side — a rebuild or a triggered build is never superseded by one.
 * Which branches: the manifest's `concurrency.cancelSuperseded`, by default every branch but
 * main, master and the release branch (shared/manifest/scheduling.ts cancelsSuperseded).
 * Pushes may be dispatched out of order (several instances): an older push dispatched after a
 * newer one finds its own build superseded and cancels it before it ever starts.
 */
import { listSupersededBuilds, newestPushBuild, type Build } from '../../../shared/db/builds.ts';
import type { Manifest } from '../../../shared/manifest/types.ts';
import { cancelsSuperseded } from '../../../shared/manifest/scheduling.ts';
import type { DispatchDeps } from '../deps.ts';
import { cancelRun } from '../cancel.ts';

/** The reason a superseded build is canceled with. */
const supersededReason = (newest: Pick<Build, 'buildNumber' | 'repoRevision'>): string => `superseded by build #${newest.buildNumber} (${newest.repoRevision.slice(0, 7)})`;

/** Cancels the builds of `build`'s branch that a newer push replaced; returns them. */
export async function cancelSupersededBuilds(deps: DispatchDeps, manifest: Manifest, build: Build): Promise<Build[]> {
  if (!cancelsSuperseded(manifest, build.repoBranch)) return [];
  const older = await listSupersededBuilds(deps.pool, build.pipelineId, build.repoBranch);
  if (older.length === 0) return [];
  const newest = (await newestPushBuild(deps.pool, build.pipelineId, build.repoBranch)) ?? build;
  const reason = supersededReason(newest);
  for (const b of older) await cancelRun(deps, b, reason);
  deps.log.info({ buildId: newest.id, superseded: older.map((b) => b.id) }, `${older.length} older build(s) of ${build.repoBranch} ${reason}`);
  return older;
}
