/**
 * build-dispatch: the CloudEvent handler that turns requests into jobs.
 * - git.push, build.requested → dispatchBuild (and git triggers of other pipelines)
 * - release.requested → dispatchRelease
 * - build.cancel, release.cancel → cancelJob
 * - build.started/finished, release.finished → pipeline/release triggers
 * - pipeline.renamed / pipeline.archived → pipeline row updates
 * Every path is idempotent per event id, so at-least-once delivery never doubles a build.
 * A thrown error means "redeliver later" (the bus retries, then dead-letters).
 */
import { getPipeline, renamePipeline, setPipelineArchived } from '../../shared/db/pipelines.ts';
import type { DispatchDeps, DispatchEvent } from './deps.ts';
import { dispatchBuild, fromPush, fromRequest } from './start-build.ts';
import { dispatchRelease } from './start-release.ts';
import { cancelJob } from './cancel.ts';
import { fireGitTriggers, firePipelineTriggers, fireReleaseTriggers } from '../../shared/triggers/fire-triggers.ts';

export type DispatchHandler = (event: DispatchEvent) => Promise<void>;

/** The build-dispatch event handler. */
export function makeHandler(base: DispatchDeps): DispatchHandler {
  return async (event) => {
    // Every line logged while handling this event carries its id and type.
    const deps: DispatchDeps = { ...base, log: base.log.child({ eventId: event.id, eventType: event.name }) };
    switch (event.name) {
      case 'git.push': {
        if (event.data.tag && !event.data.branch) {
          deps.log.info(`tag push ${event.data.tag} of ${event.data.repoOwner}/${event.data.repoName} ignored: builds run for branches`);
          return;
        }
        await dispatchBuild(deps, fromPush(event.id, event.data));
        await fireGitTriggers(deps, event.id, event.data);
        return;
      }
      case 'build.requested':
        await dispatchBuild(deps, fromRequest(event.id, event.data));
        return;
      case 'release.requested':
        await dispatchRelease(deps, event.id, event.data);
        return;
      case 'build.cancel':
        return cancelJob(deps, 'build', event.data);
      case 'release.cancel':
        return cancelJob(deps, 'release', event.data);
      case 'build.started':
        return firePipelineTriggers(deps, event.id, 'started', event.data);
      case 'build.finished':
        return firePipelineTriggers(deps, event.id, 'finished', event.data);
      case 'release.finished':
        return fireReleaseTriggers(deps, event.id, event.data);
      case 'pipeline.archived': {
        const p = await setPipelineArchived(deps.pool, event.data, event.data.archived);
        deps.log.info(p ? `pipeline ${p.repoSource}/${p.repoOwner}/${p.repoName} ${event.data.archived ? 'archived' : 'unarchived'}` : `archive of unknown pipeline ${event.data.repoOwner}/${event.data.repoName} ignored`);
        return;
      }
      case 'pipeline.renamed': {
        const p = await getPipeline(deps.pool, event.data);
        if (!p) return deps.log.info(`rename of unknown pipeline ${event.data.repoOwner}/${event.data.repoName} ignored`);
        await renamePipeline(deps.pool, event.data, { repoOwner: event.data.newRepoOwner, repoName: event.data.newRepoName });
        deps.log.info(`pipeline ${event.data.repoOwner}/${event.data.repoName} renamed to ${event.data.newRepoOwner}/${event.data.newRepoName}`);
        return;
      }
      case 'release.started':
      case 'cron.tick':
        return; // not ours: cron.tick goes to cron-relay; release.started has no trigger filter
    }
  };
}
