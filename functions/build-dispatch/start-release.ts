/**
 * Starts a release for a `release.requested`: the version must have a succeeded build whose
 * manifest has the target (and action); the release runs that manifest's release stages (template
 * applied, git-clone only with `clone: true`) as a Job, exactly like a build. A request that does
 * not qualify is recorded as a failed release with the reason in its log, so a trigger or cron
 * that asked for it leaves a visible trace (query-api refuses such requests before publishing).
 */
import type { ReleaseRequestedData } from '../../shared/events/types.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import { compilePlan } from '../../shared/manifest/compile.ts';
import type { RenderedVersion } from '../../shared/manifest/version.ts';
import { getPipeline } from '../../shared/db/pipelines.ts';
import { findBuildsByVersion, getBuild, listBuilds } from '../../shared/db/builds.ts';
import { createRelease, setReleasePlan, type Release } from '../../shared/db/releases.ts';
import { writeSystemStep } from '../../shared/logs/system-step.ts';
import type { DispatchDeps } from './deps.ts';
import { startJob } from './start-job.ts';
import { namedTriggerFields } from './named-triggers.ts';
import { isForkPullRequest, pullRequestReleaseRefusal } from './pull-requests.ts';
import { requestForgeStatus } from './report-status.ts';

/** `1.2.3-feature-x` → its parts (Estafette's ESTAFETTE_BUILD_VERSION_* of the released build). */
export function versionParts(version: string): RenderedVersion {
  const m = /^(\d+)\.(\d+)\.([^-]+)(?:-(.*))?$/.exec(version);
  return m ? { version, major: m[1], minor: m[2], patch: m[3], label: m[4] ?? '' } : { version, major: '', minor: '', patch: '', label: '' };
}

/** Resolves `latest` / `current` to a version: the newest succeeded build on a release branch or any. */
async function resolveVersion(deps: DispatchDeps, pipelineId: string, version: string): Promise<string | undefined> {
  if (version !== 'latest' && version !== 'current' && version !== '') return version;
  const page = await listBuilds(deps.pool, { pipelineId, statuses: ['succeeded'], size: 20 });
  return page.items.find((b) => !isForkPullRequest(b.trigger))?.buildVersion;
}

/** Dispatches one release request; returns the release (undefined when the pipeline is unknown). */
export async function dispatchRelease(deps: DispatchDeps, eventId: string, req: ReleaseRequestedData): Promise<Release | undefined> {
  const name = `${req.repoSource}/${req.repoOwner}/${req.repoName}`;
  if (req.chainDepth > deps.settings.maxChainDepth) {
    deps.log.info(`release of ${name} to ${req.name} refused: trigger chain depth ${req.chainDepth} exceeds ${deps.settings.maxChainDepth} (a trigger loop?)`);
    return undefined;
  }
  const pipeline = await getPipeline(deps.pool, req);
  if (!pipeline) {
    deps.log.info(`release of ${name} refused: unknown pipeline`);
    return undefined;
  }
  if (pipeline.archived) {
    deps.log.info(`release of ${name} skipped: the pipeline is archived`);
    return undefined;
  }
  const version = (await resolveVersion(deps, pipeline.id, req.version)) ?? req.version;
  const builds = await findBuildsByVersion(deps.pool, pipeline.id, version);
  const succeeded = builds.find((b) => b.buildStatus === 'succeeded');
  const build = succeeded ? await getBuild(deps.pool, succeeded.id, { withManifest: true }) : null;
  const loaded = build?.manifest ? loadManifest(build.manifest) : undefined;
  const target = loaded?.manifest?.releases.find((r) => r.name === req.name);
  const templateActions = target?.template ? loaded?.manifest?.releaseTemplates.find((t) => t.name === target.template)?.actions : undefined;
  const actions = (target?.actions ?? templateActions ?? []).map((a) => a.name);
  const refusal = !build
    ? `version ${version} has no succeeded build`
    : pullRequestReleaseRefusal(version, build.trigger)
      ? pullRequestReleaseRefusal(version, build.trigger)
      : !loaded?.manifest || loaded.errors.length > 0
      ? `the manifest of version ${version} is invalid`
      : !target
        ? `release target '${req.name}' is not in the manifest of version ${version}`
        : actions.length > 0 && !actions.includes(req.action ?? '')
          ? `release target '${req.name}' has no action '${req.action ?? ''}' (actions: ${actions.join(', ')})`
          : actions.length === 0 && req.action
            ? `release target '${req.name}' has no actions`
            : undefined;

  const { release, created } = await createRelease(deps.pool, {
    pipelineId: pipeline.id,
    repoSource: req.repoSource,
    repoOwner: req.repoOwner,
    repoName: req.repoName,
    name: req.name,
    action: req.action ?? '',
    version,
    status: refusal ? 'failed' : 'pending',
    triggeredBy: req.requestedBy ?? req.trigger.event,
    trigger: req.trigger,
    buildId: build?.id ?? null,
    chainDepth: req.chainDepth,
    eventId,
  });
  const subject = build ? { kind: 'release' as const, id: release.id, repoSource: req.repoSource, repoOwner: req.repoOwner, repoName: req.repoName, branch: build.repoBranch, revision: build.repoRevision } : undefined;
  if (created && subject) await requestForgeStatus(deps, subject, refusal ? 'failed' : 'pending');
  if (refusal) {
    if (created) await writeSystemStep(deps.pool, 'release', release.id, 'validate-release', [`Release refused: ${refusal}`]);
    deps.log.info({ releaseId: release.id, pipeline: name }, `release ${release.id} of ${name} to ${req.name} refused: ${refusal}`);
    return release;
  }
  if (!created && release.releaseStatus !== 'pending') return release;

  const manifest = loaded!.manifest!;
  const plan = compilePlan(manifest, {
    kind: 'release',
    name: req.name,
    ...(req.action ? { action: req.action } : {}),
    repoSource: req.repoSource,
    repoOwner: req.repoOwner,
    repoName: req.repoName,
    branch: build!.repoBranch,
    revision: build!.repoRevision,
    version: versionParts(version),
    buildId: build!.id,
    releaseId: release.id,
    counters: { current: build!.buildNumber, max: build!.buildNumber, maxCurrentBranch: build!.buildNumber },
    datetime: release.insertedAt,
    ciServerBaseUrl: deps.settings.baseUrl,
    trigger: req.trigger,
    triggeredBy: req.requestedBy ?? req.trigger.event,
    namedTriggers: await namedTriggerFields(deps, manifest, req),
  });
  await setReleasePlan(deps.pool, release.id, plan);
  const clone = plan.stages.some((s) => s.builtin === 'git-clone');
  await startJob(deps, { kind: 'release', id: release.id, plan, cloneUrl: pipeline.cloneUrl, clone });
  deps.log.info({ releaseId: release.id, pipeline: name }, `release ${release.id} of ${name} ${version} to ${req.name}${req.action ? `/${req.action}` : ''} started`);
  return release;
}
