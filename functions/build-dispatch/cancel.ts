/**
 * Cancels a build or release: a pending job is marked `canceled` at once; a running one goes to
 * `canceling` and its Job is deleted, so the builder gets SIGTERM and reports `canceled` itself
 * (if the job is already gone, the dispatcher marks it canceled). Final jobs are left alone.
 */
import type { CancelData } from '../../shared/events/types.ts';
import { getBuild, transitionBuildStatus } from '../../shared/db/builds.ts';
import { getRelease, transitionReleaseStatus } from '../../shared/db/releases.ts';
import { IllegalTransitionError } from '../../shared/db/errors.ts';
import type { JobStatus } from '../../shared/status/status.ts';
import type { DispatchDeps } from './deps.ts';
import { releaseSubject, requestForgeStatus } from './report-status.ts';

async function statusOfCanceled(deps: DispatchDeps, kind: 'build' | 'release', id: string): Promise<void> {
  const build = kind === 'build' ? await getBuild(deps.pool, id) : null;
  const subject = build
    ? { kind, id, repoSource: build.repoSource, repoOwner: build.repoOwner, repoName: build.repoName, branch: build.repoBranch, revision: build.repoRevision }
    : await releaseSubject(deps, id);
  if (subject) await requestForgeStatus(deps, subject, 'canceled');
}

/** Cancels the build or release named by the event. */
export async function cancelJob(deps: DispatchDeps, kind: 'build' | 'release', e: CancelData): Promise<void> {
  const job = kind === 'build' ? await getBuild(deps.pool, e.id) : await getRelease(deps.pool, e.id);
  if (!job) {
    deps.log.info(`cancel of ${kind} ${e.id} ignored: no such ${kind}`);
    return;
  }
  const status: JobStatus = 'buildStatus' in job ? job.buildStatus : job.releaseStatus;
  const ref = { kind, id: job.id, repoOwner: job.repoOwner, repoName: job.repoName };
  const transition = (to: JobStatus) => (kind === 'build' ? transitionBuildStatus(deps.pool, job.id, to) : transitionReleaseStatus(deps.pool, job.id, to));
  try {
    if (status === 'pending') {
      await transition('canceled');
      // No builder ran, so no build.finished will tell the forge.
      await statusOfCanceled(deps, kind, job.id);
      await deps.runner.cancel(ref);
    } else if (status === 'running' || status === 'canceling') {
      if (status === 'running') await transition('canceling');
      await deps.runner.cancel(ref);
      // The builder reports `canceled`; if no builder is left to do so, say it here.
      if ((await deps.runner.state(ref)) !== 'running') await transition('canceled').catch(ignoreIllegal);
    }
  } catch (err) {
    // A racing report (e.g. the build just finished) wins; cancel is then a no-op.
    ignoreIllegal(err);
  }
  deps.log.info(`cancel of ${kind} ${job.id} (was ${status}) requested${e.requestedBy ? ` by ${e.requestedBy}` : ''}`);
}

function ignoreIllegal(err: unknown): void {
  if (!(err instanceof IllegalTransitionError)) throw err;
}
