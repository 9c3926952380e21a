/**
 * The flat fields of trigger events, as they become ESTAFETTE_TRIGGER_<EVENT|NAME>_<FIELD>
 * variables in the triggered run (Estafette's names: REPO_SOURCE, REPO_OWNER, REPO_NAME,
 * BRANCH, BUILD_VERSION, STATUS, EVENT, …; git: REPOSITORY, BRANCH, REVISION; cron: SCHEDULE, TIME).
 */
import type { Build } from '../db/builds.ts';
import type { Release } from '../db/releases.ts';

/** Fields of a pipeline (build) event. */
export function pipelineFields(b: Pick<Build, 'repoSource' | 'repoOwner' | 'repoName' | 'repoBranch' | 'repoRevision' | 'buildVersion' | 'buildStatus' | 'id'>, event: 'started' | 'finished'): Record<string, string> {
  return {
    EVENT: event,
    STATUS: b.buildStatus,
    NAME: `${b.repoSource}/${b.repoOwner}/${b.repoName}`,
    REPO_SOURCE: b.repoSource,
    REPO_OWNER: b.repoOwner,
    REPO_NAME: b.repoName,
    BRANCH: b.repoBranch,
    REVISION: b.repoRevision,
    BUILD_VERSION: b.buildVersion,
    BUILD_ID: b.id,
  };
}

/** Fields of a release event. */
export function releaseFields(r: Pick<Release, 'repoSource' | 'repoOwner' | 'repoName' | 'name' | 'action' | 'releaseVersion' | 'releaseStatus' | 'id'>, event: 'started' | 'finished'): Record<string, string> {
  return {
    EVENT: event,
    STATUS: r.releaseStatus,
    NAME: `${r.repoSource}/${r.repoOwner}/${r.repoName}`,
    REPO_SOURCE: r.repoSource,
    REPO_OWNER: r.repoOwner,
    REPO_NAME: r.repoName,
    TARGET: r.name,
    ACTION: r.action ?? '',
    RELEASE_VERSION: r.releaseVersion,
    RELEASE_ID: r.id,
  };
}

/** Fields of a push (git trigger): EVENT push, or tag with TAG. */
export function gitFields(e: { repoSource: string; repoOwner: string; repoName: string; branch: string; revision: string; tag?: string }): Record<string, string> {
  return {
    EVENT: e.tag && !e.branch ? 'tag' : 'push',
    ...(e.tag ? { TAG: e.tag } : {}),
    REPOSITORY: `${e.repoSource}/${e.repoOwner}/${e.repoName}`,
    REPO_SOURCE: e.repoSource,
    REPO_OWNER: e.repoOwner,
    REPO_NAME: e.repoName,
    BRANCH: e.branch,
    REVISION: e.revision,
  };
}

/** Fields of a cron firing: the schedule and the UTC minute it fired for. */
export function cronFields(schedule: string, minute: Date): Record<string, string> {
  return { SCHEDULE: schedule, TIME: minute.toISOString() };
}

/**
 * Fields of a forge event (github, bitbucket), with Estafette's names: EVENT, REPOSITORY and
 * PAYLOAD, plus DELIVERY (GitHub's X-GitHub-Delivery) or REQUEST_UUID (Bitbucket's
 * X-Request-UUID); ACTION is this system's addition (the payload's `action`).
 */
export function forgeFields(e: { forge: 'github' | 'bitbucket'; event: string; action: string; repoSource: string; repoOwner: string; repoName: string; deliveryId: string; payload: string }): Record<string, string> {
  return {
    EVENT: e.event,
    REPOSITORY: `${e.repoSource}/${e.repoOwner}/${e.repoName}`,
    ...(e.forge === 'github' ? { DELIVERY: e.deliveryId } : { REQUEST_UUID: e.deliveryId }),
    ACTION: e.action,
    PAYLOAD: e.payload,
  };
}
