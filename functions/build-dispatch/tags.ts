/**
 * Tag pushes. A tag builds only where a manifest asks for it with a git trigger of
 * `event: tag`: the tagged repository's own manifest at the tagged revision (a trigger on
 * `self` or the repository's name whose `branch` pattern matches the tag name, any tag by
 * default) builds it — on a build whose branch is the tag's name, with ESTAFETTE_GIT_TAG set —
 * and other pipelines' stored tag triggers fire as their actions say. A tag nobody asked for is
 * ignored with the reason logged.
 */
import type { GitPushData } from '../../shared/events/types.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import { allTriggers, gitTriggerMatches } from '../../shared/manifest/triggers.ts';
import type { DispatchDeps } from './deps.ts';
import { fireGitTriggers } from '../../shared/triggers/fire-triggers.ts';
import { gitFields } from '../../shared/triggers/trigger-fields.ts';
import { dispatchBuild, type BuildRequest } from './start-build.ts';

/** A tag push as a build request of the tagged repository. */
function fromTag(id: string, e: GitPushData & { tag: string }): BuildRequest {
  return {
    eventId: id,
    repoSource: e.repoSource,
    repoOwner: e.repoOwner,
    repoName: e.repoName,
    branch: e.tag,
    tag: e.tag,
    revision: e.revision,
    cloneUrl: e.cloneUrl,
    forge: e.forge,
    commits: [],
    ...(e.installationId ? { installationId: e.installationId } : {}),
    trigger: { event: 'git', fields: gitFields(e) },
    chainDepth: 0,
  };
}

/** Handles a tag push (see the module header). */
export async function dispatchTag(deps: DispatchDeps, eventId: string, e: GitPushData & { tag: string }): Promise<void> {
  const name = `${e.repoSource}/${e.repoOwner}/${e.repoName}`;
  await fireGitTriggers(deps, eventId, e);
  const text = await deps.scm.getManifest({ ...e }, e.revision);
  const manifest = text === undefined ? undefined : loadManifest(text).manifest;
  const event = { event: 'tag' as const, repository: name, branch: e.tag };
  const asks = manifest !== undefined && allTriggers(manifest).some(({ scope, trigger }) => scope.kind === 'build' && trigger.action.kind === 'builds' && gitTriggerMatches(trigger, event, name));
  if (!asks) {
    deps.log.info({ pipeline: name, tag: e.tag, revision: e.revision }, `tag push ${e.tag} of ${name} not built: its manifest at ${e.revision.slice(0, 12)} has no git trigger with event tag for it`);
    return;
  }
  await dispatchBuild(deps, fromTag(eventId, e));
}
