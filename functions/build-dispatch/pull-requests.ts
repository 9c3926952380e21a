/**
 * Builds of pull requests from forks (git.pull_request): the base repository's pipeline builds
 * the PR's head revision, on a branch named by the forge's PR ref (`pull/7/head`,
 * `merge-requests/7/head`, Bitbucket `pull-requests/7`) so it never passes for a real branch,
 * with trigger event `pull_request` (ESTAFETTE_TRIGGER_PULL_REQUEST_NUMBER, _BASE_BRANCH,
 * _HEAD_BRANCH, …; `when` tests it as `event == 'pull_request'`). Code from a fork is not
 * trusted: such a build gets no secrets (`secretsAllowed`; a plan that needs some fails with
 * a `validate-secrets` step saying why), never changes the pipeline's stored manifest,
 * triggers or clone URL, and cannot be released (`pullRequestReleaseRefusal`).
 */
import type { PullRequestData, TriggerInfo } from '../../shared/events/types.ts';
import type { Plan, PlanService, PlanStage } from '../../shared/plan/types.ts';
import { findSecrets } from '../../shared/secrets/secret.ts';
import type { BuildRequest } from './start-build.ts';

/** The trigger event of pull request builds. */
import { PULL_REQUEST_EVENT, isForkPullRequest } from '../../shared/triggers/pull-request-trigger.ts';

export { isForkPullRequest };

/** The branch a pull request build is recorded on. */
function pullRequestBranch(e: Pick<PullRequestData, 'forge' | 'number' | 'cloneRef'>): string {
  return e.forge === 'bitbucket' ? `pull-requests/${e.number}` : e.cloneRef;
}

/** A git.pull_request as a build request. */
export function fromPullRequest(id: string, e: PullRequestData): BuildRequest {
  const trigger: TriggerInfo = {
    event: PULL_REQUEST_EVENT,
    fields: {
      EVENT: PULL_REQUEST_EVENT,
      ACTION: e.action,
      NUMBER: String(e.number),
      BASE_BRANCH: e.baseBranch,
      HEAD_BRANCH: e.headBranch,
      HEAD_REPOSITORY: e.headRepository,
      FORK: String(e.fork),
      REVISION: e.revision,
      TITLE: e.title,
      AUTHOR: e.author.name,
      REPOSITORY: `${e.repoSource}/${e.repoOwner}/${e.repoName}`,
    },
  };
  return {
    eventId: id,
    repoSource: e.repoSource,
    repoOwner: e.repoOwner,
    repoName: e.repoName,
    branch: pullRequestBranch(e),
    revision: e.revision,
    cloneUrl: e.cloneUrl,
    cloneRef: e.cloneRef,
    forge: e.forge,
    ...(e.installationId ? { installationId: e.installationId } : {}),
    commits: [],
    trigger,
    chainDepth: 0,
    untrusted: e.fork,
  };
}

/**
 * Whether a build may have the pipeline's secrets: not when its code comes from a fork.
 * The secret hand-off (start-job.ts) consults this.
 */
export const secretsAllowed = (req: Pick<BuildRequest, 'untrusted'>): boolean => req.untrusted !== true;

/** The stages (paths) whose env, services or properties need an `estafette.secret(...)`. */
function stagesNeedingSecrets(plan: Plan): string[] {
  const uses = (v: unknown): boolean => (typeof v === 'string' ? findSecrets(v).length > 0 : Array.isArray(v) ? v.some(uses) : v !== null && typeof v === 'object' ? Object.values(v).some(uses) : false);
  const out: string[] = [];
  const service = (s: PlanService) => uses(s.env) || uses(s.customProperties);
  const visit = (s: PlanStage, parent?: string) => {
    const path = parent ? `${parent}/${s.name}` : s.name;
    if (uses(s.env) || uses(s.customProperties) || s.services.some(service)) out.push(path);
    for (const c of s.parallelStages) visit(c, path);
  };
  plan.stages.forEach((s) => visit(s));
  return out;
}

/** Why a build that may not have secrets cannot run its plan, or undefined when it needs none. */
export function secretsRefusal(plan: Plan): string | undefined {
  const stages = stagesNeedingSecrets(plan);
  if (stages.length === 0) return undefined;
  const list = stages.map((s) => `'${s}'`).join(', ');
  return `stage${stages.length > 1 ? 's' : ''} ${list} need${stages.length > 1 ? '' : 's'} estafette.secret(...) values, and builds of pull requests from forks get no secrets (their code is not the repository's own)`;
}

/** Why a version built from a fork's pull request cannot be released, or undefined. */
export function pullRequestReleaseRefusal(version: string, trigger: TriggerInfo | null | undefined): string | undefined {
  if (!isForkPullRequest(trigger)) return undefined;
  return `version ${version} was built from pull request #${trigger!.fields.NUMBER ?? '?'} of a fork, which cannot be released`;
}
