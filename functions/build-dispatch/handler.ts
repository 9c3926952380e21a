/**
 * build-dispatch: the CloudEvent handler that turns requests into jobs.
 * - git.push, build.requested → dispatchBuild (and git triggers of other pipelines); a tag push → dispatchTag
 * - git.pull_request → dispatchBuild of the fork's head, without secrets
 * - release.requested → dispatchRelease
 * - bot.requested → dispatchBot; forge.event (any forge delivery) → the `github:`/`bitbucket:` triggers it fires
 * - build.cancel, release.cancel, bot.cancel → cancelJob
 * - build.started/finished, release.started/finished → commit statuses (forge.status) and pipeline/release triggers;
 *   a finished job frees a slot (admission)
 * - queue.advance (cron-relay's tick, an approval) → admission, approval expiry, lost starts
 * - forge.status → reportForgeStatus (the commit status on the forge)
 * - pipeline.renamed / pipeline.archived → pipeline row updates
 * Every path is idempotent per event id, so at-least-once delivery never doubles a build.
 * A thrown error means "redeliver later" (the bus retries, then dead-letters).
 */
import { getPipeline, renamePipeline, setPipelineArchived } from '../../shared/db/pipelines.ts';
import type { DispatchDeps, DispatchEvent } from './deps.ts';
import { dispatchBuild, fromPush, fromRequest } from './start-build.ts';
import { dispatchRelease } from './start-release.ts';
import { cancelJob } from './cancel.ts';
import { fireForgeTriggers, fireGitTriggers, firePipelineTriggers, fireReleaseTriggers } from '../../shared/triggers/fire-triggers.ts';
import { dispatchBot } from './start-bot.ts';
import { advanceBuilds, advanceReleases, restartOrphans } from './scheduling/admission.ts';
import { expireApprovals } from './scheduling/expiry.ts';
import { dispatchTag } from './tags.ts';
import { fromPullRequest } from './pull-requests.ts';
import { releaseSubject, reportForgeStatus, requestForgeStatus } from './report-status.ts';

export type DispatchHandler = (event: DispatchEvent) => Promise<void>;

/** The build-dispatch event handler. */
export function makeHandler(base: DispatchDeps): DispatchHandler {
  return async (event) => {
    // Every line logged while handling this event carries its id and type.
    const deps: DispatchDeps = { ...base, log: base.log.child({ eventId: event.id, eventType: event.name }) };
    switch (event.name) {
      case 'git.push': {
        const tag = event.data.tag;
        if (tag && !event.data.branch) return dispatchTag(deps, event.id, { ...event.data, tag });
        await dispatchBuild(deps, fromPush(event.id, event.data));
        await fireGitTriggers(deps, event.id, event.data);
        return;
      }
      case 'git.pull_request':
        await dispatchBuild(deps, fromPullRequest(event.id, event.data));
        return;
      case 'build.requested':
        await dispatchBuild(deps, fromRequest(event.id, event.data));
        return;
      case 'release.requested':
        await dispatchRelease(deps, event.id, event.data);
        return;
      case 'bot.requested':
        await dispatchBot(deps, event.id, event.data);
        return;
      case 'bot.cancel':
        return cancelJob(deps, 'bot', event.data);
      case 'forge.event':
        return fireForgeTriggers(deps, event.id, event.data);
      case 'build.cancel':
        return cancelJob(deps, 'build', event.data);
      case 'release.cancel':
        return cancelJob(deps, 'release', event.data);
      case 'build.started':
        await requestForgeStatus(deps, { kind: 'build', id: event.data.buildId, ...event.data }, 'running');
        return firePipelineTriggers(deps, event.id, 'started', event.data);
      case 'build.finished':
        await requestForgeStatus(deps, { kind: 'build', id: event.data.buildId, ...event.data }, event.data.status);
        await advanceBuilds(deps);
        return firePipelineTriggers(deps, event.id, 'finished', event.data);
      case 'release.started': {
        const subject = await releaseSubject(deps, event.data.releaseId);
        if (subject) await requestForgeStatus(deps, subject, 'running');
        return;
      }
      case 'release.finished': {
        const subject = await releaseSubject(deps, event.data.releaseId);
        if (subject) await requestForgeStatus(deps, subject, event.data.status);
        await advanceReleases(deps);
        return fireReleaseTriggers(deps, event.id, event.data);
      }
      case 'forge.status':
        return reportForgeStatus(deps, event.data);
      case 'queue.advance': {
        const expired = await expireApprovals(deps);
        const restarted = await restartOrphans(deps);
        const admitted = [...(await advanceBuilds(deps)), ...(await advanceReleases(deps))];
        if (expired.length || restarted.length || admitted.length) {
          deps.log.info({ reason: event.data.reason, expired, restarted, admitted }, `queue advanced (${event.data.reason})`);
        }
        return;
      }
      case 'pipeline.archived': {
        const p = await setPipelineArchived(deps.pool, event.data, event.data.archived);
        deps.log.info(
          p ? `pipeline ${p.repoSource}/${p.repoOwner}/${p.repoName} ${event.data.archived ? 'archived' : 'unarchived'}` : `archive of unknown pipeline ${event.data.repoOwner}/${event.data.repoName} ignored`,
        );
        return;
      }
      case 'pipeline.renamed': {
        const p = await getPipeline(deps.pool, event.data);
        if (!p) return deps.log.info(`rename of unknown pipeline ${event.data.repoOwner}/${event.data.repoName} ignored`);
        await renamePipeline(deps.pool, event.data, { repoOwner: event.data.newRepoOwner, repoName: event.data.newRepoName });
        deps.log.info(`pipeline ${event.data.repoOwner}/${event.data.repoName} renamed to ${event.data.newRepoOwner}/${event.data.newRepoName}`);
        return;
      }
      case 'cron.tick':
        return; // not ours: cron.tick goes to cron-relay
    }
  };
}
