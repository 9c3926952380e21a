/**
 * Cancels a build, release or bot run: a waiting one (queued, awaiting approval) or a pending one is
 * marked `canceled` at once (a pending one's Job is deleted); a running one goes to `canceling`
 * and its Job is deleted, so the builder gets SIGTERM and reports `canceled` itself (if the job
 * is already gone, the dispatcher marks it canceled). Final jobs are left alone. The reason — who
 * asked, or why the system did (superseded, rejected, expired) — is stored on the job as its
 * status reason, for the UI and for forge status reporters. A job that dispatch ends itself gets
 * its `*.finished` event from here (the same id log-ingest would use), and the queue advances
 * when a slot or a place in line was freed.
 */
import { eventArgs, type CancelData } from '../../shared/events/types.ts';
import { getBuild, transitionBuildStatus, type Build } from '../../shared/db/builds.ts';
import { getRelease, transitionReleaseStatus, type Release } from '../../shared/db/releases.ts';
import { getBot, transitionBotStatus, type Bot } from '../../shared/db/bots.ts';
import { IllegalTransitionError } from '../../shared/db/errors.ts';
import { jobStatusEvent } from '../../shared/events/job-status-events.ts';
import type { JobStatus } from '../../shared/status/status.ts';
import type { DispatchDeps } from './deps.ts';
import { advanceBuilds, advanceReleases } from './scheduling/admission.ts';

/** Cancels the build, release or bot run named by the event. */
export async function cancelJob(deps: DispatchDeps, kind: 'build' | 'release' | 'bot', e: CancelData): Promise<void> {
  const job = kind === 'build' ? await getBuild(deps.pool, e.id) : kind === 'release' ? await getRelease(deps.pool, e.id) : await getBot(deps.pool, e.id);
  if (!job) {
    deps.log.info(`cancel of ${kind} ${e.id} ignored: no such ${kind}`);
    return;
  }
  await cancelRun(deps, job, e.requestedBy ? `canceled by ${e.requestedBy}` : 'canceled');
}

/**
 * Cancels `job` with `reason` (see the module comment); returns the status it was in. Safe to
 * repeat and to race with the builder's own final report, which then wins.
 */
export async function cancelRun(deps: DispatchDeps, job: Build | Release | Bot, reason: string): Promise<JobStatus> {
  const kind = 'buildStatus' in job ? 'build' : 'botStatus' in job ? 'bot' : 'release';
  const status: JobStatus = 'buildStatus' in job ? job.buildStatus : 'botStatus' in job ? job.botStatus : job.releaseStatus;
  const ref = { kind, id: job.id, repoOwner: job.repoOwner, repoName: job.repoName } as const;
  const transition = (to: JobStatus): Promise<Build | Release | Bot> =>
    kind === 'build' ? transitionBuildStatus(deps.pool, job.id, to, { reason }) : kind === 'release' ? transitionReleaseStatus(deps.pool, job.id, to, { reason }) : transitionBotStatus(deps.pool, job.id, to, { reason });
  const ended = async (row: Build | Release | Bot) => {
    // Bot runs end nothing else (no commit status, no triggers).
    if ('botStatus' in row) return;
    const e = jobStatusEvent(row, 'canceled');
    if (e) await deps.publish(...eventArgs(e), { id: e.id });
  };
  try {
    if (status === 'queued' || status === 'awaiting-approval' || status === 'pending') {
      const row = await transition('canceled');
      if (status === 'pending') await deps.runner.cancel(ref);
      await ended(row);
      if (kind !== 'bot') await (kind === 'build' ? advanceBuilds(deps) : advanceReleases(deps));
    } else if (status === 'running' || status === 'canceling') {
      if (status === 'running') await transition('canceling');
      await deps.runner.cancel(ref);
      // The builder reports `canceled`; if no builder is left to do so, say it here.
      if ((await deps.runner.state(ref)) !== 'running') {
        const row = await transition('canceled').catch(ignoreIllegal);
        if (row) await ended(row);
      }
    }
  } catch (err) {
    // A racing report (e.g. the build just finished) wins; cancel is then a no-op.
    ignoreIllegal(err);
  }
  deps.log.info({ [`${kind}Id`]: job.id }, `cancel of ${kind} ${job.id} (was ${status}): ${reason}`);
  return status;
}

function ignoreIllegal(err: unknown): undefined {
  if (!(err instanceof IllegalTransitionError)) throw err;
  return undefined;
}
