/**
 * Starts a release for a `release.requested`: the version must have a succeeded build whose
 * manifest has the target (and action); the release runs that manifest's release stages (template
 * applied, git-clone only with `clone: true`) as a Job, exactly like a build. A request that does
 * not qualify is recorded as a failed release with the reason in its log, so a trigger or cron
 * that asked for it leaves a visible trace (query-api refuses such requests before publishing).
 *
 * Releases of one target never overlap: each is queued and admitted when fewer than the target's
 * `concurrency` (default 1) releases of it (per action) are active (scheduling/admission.ts). A
 * target with `approval` holds its releases as `awaiting-approval` first — manual and triggered
 * ones alike — until query-api records enough approvals; `ifBusy: refuse` cancels instead of queueing.
 */
import { systemClock } from '../../shared/time/clock.ts';
import { eventArgs, type ReleaseRequestedData } from '../../shared/events/types.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import { compilePlan } from '../../shared/manifest/compile.ts';
import type { RenderedVersion } from '../../shared/manifest/version.ts';
import { getPipeline } from '../../shared/db/pipelines.ts';
import { findBuildsByVersion, getBuild, listBuilds } from '../../shared/db/builds.ts';
import { countActiveReleases, createRelease, getRelease, setReleasePlan, transitionReleaseStatus, type Release } from '../../shared/db/releases.ts';
import { releaseSchedule } from '../../shared/manifest/scheduling.ts';
import { jobStatusEvent } from '../../shared/events/job-status-events.ts';
import { advanceReleases, startStoredJob } from './scheduling/admission.ts';
import { writeSystemStep } from '../../shared/logs/system-step.ts';
import type { DispatchDeps } from './deps.ts';
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

  const schedule = !refusal && loaded?.manifest ? releaseSchedule(loaded.manifest, req.name) : undefined;
  const now = new Date((deps.clock ?? systemClock).now());
  const deadline = schedule?.approval?.expiresAfterSeconds ? new Date(now.getTime() + schedule.approval.expiresAfterSeconds * 1000) : undefined;
  const { release, created } = await createRelease(deps.pool, {
    pipelineId: pipeline.id,
    repoSource: req.repoSource,
    repoOwner: req.repoOwner,
    repoName: req.repoName,
    name: req.name,
    action: req.action ?? '',
    version,
    status: refusal ? 'failed' : schedule?.approval ? 'awaiting-approval' : 'queued',
    ...(schedule ? { queueLimit: schedule.limit } : {}),
    ...(schedule?.approval ? { approval: schedule.approval } : {}),
    ...(deadline ? { approvalDeadline: deadline } : {}),
    ...(refusal ? { statusReason: refusal } : {}),
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
  // A redelivery re-runs what may not have happened: the plan, admission, a pending release's start.
  if (!created && !['pending', 'queued', 'awaiting-approval'].includes(release.releaseStatus)) return release;

  const what = `release ${release.id} of ${name} ${version} to ${req.name}${req.action ? `/${req.action}` : ''}`;
  // Before the plan is stored: admission skips a release without one, so nobody starts it meanwhile.
  if (created && release.releaseStatus === 'queued' && req.ifBusy === 'refuse') {
    const busy = await countActiveReleases(deps.pool, { pipelineId: pipeline.id, name: req.name, action: req.action ?? '' });
    if (busy >= (schedule?.limit ?? 1)) {
      const canceled = await transitionReleaseStatus(deps.pool, release.id, 'canceled', { reason: `target ${req.name} is busy (${busy} release(s) running) and the request said not to queue` });
      const e = jobStatusEvent(canceled, 'canceled');
      if (e) await deps.publish(...eventArgs(e), { id: e.id });
      deps.log.info({ releaseId: release.id, pipeline: name }, `${what} refused: ${canceled.statusReason}`);
      return canceled;
    }
  }
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
  if (release.releaseStatus === 'awaiting-approval') {
    deps.log.info({ releaseId: release.id, pipeline: name }, `${what} awaits approval (${schedule?.approval?.required ?? 1} needed)`);
    return release;
  }
  if (release.releaseStatus === 'pending') {
    // Admitted before a crash or a failed start: start it (the runner's start is idempotent).
    await startStoredJob(deps, 'release', release.id);
    return release;
  }
  await advanceReleases(deps);
  const after = (await getRelease(deps.pool, release.id)) ?? release;
  deps.log.info(
    { releaseId: release.id, pipeline: name },
    `${what} ${after.releaseStatus === 'queued' ? `queued at position ${after.queuePosition} behind a release of the same target` : after.releaseStatus === 'pending' ? 'started' : after.releaseStatus}`,
  );
  return after;
}
