/**
 * Starts a build for a `git.push` or a `build.requested`: reads the manifest at the revision,
 * keeps the pipeline row (labels, targets, triggers, clone URL) in step with it, takes the next
 * build number and version in one transaction, compiles the Plan and starts the Job.
 * An invalid manifest still records a build — `failed`, with a `validate-manifest` step holding
 * the lint errors — as Estafette does. Redelivery of the same event finds the build it created
 * (builds.event_id) and at most re-starts its job, which the runner makes idempotent.
 */
import type { BuildRequestedData, GitPushData, TriggerInfo } from '../../shared/events/types.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import { renderVersion } from '../../shared/manifest/version.ts';
import { compilePlan } from '../../shared/manifest/compile.ts';
import { buildRun } from '../../shared/manifest/build-run.ts';
import { getPipeline, upsertPipeline, type Pipeline } from '../../shared/db/pipelines.ts';
import { createBuild, findBuildsByVersion, listBuilds, setBuildPlan, type Build } from '../../shared/db/builds.ts';
import { replaceTriggers } from '../../shared/db/triggers.ts';
import { writeSystemStep } from '../../shared/logs/system-step.ts';
import type { DispatchDeps } from './deps.ts';
import { releaseTargets, triggerRows } from './manifest-facts.ts';
import { startJob } from './start-job.ts';
import { namedTriggerFields } from './named-triggers.ts';
import { reuseStagesBeforeFailure } from './rerun-failed.ts';

/** The facts of a build request, whichever event carried it. */
export interface BuildRequest {
  eventId: string;
  repoSource: string;
  repoOwner: string;
  repoName: string;
  branch: string;
  revision?: string;
  cloneUrl?: string;
  forge?: string;
  commits: GitPushData['commits'];
  trigger: TriggerInfo;
  chainDepth: number;
  /** Rebuild of this version (its revision is reused). */
  version?: string;
  /** Re-run this failed build from its first failed stage (rerun-failed.ts). */
  rerunFailedOf?: string;
}

/** A git.push as a build request. */
export const fromPush = (id: string, e: GitPushData): BuildRequest => ({
  eventId: id,
  repoSource: e.repoSource,
  repoOwner: e.repoOwner,
  repoName: e.repoName,
  branch: e.branch,
  revision: e.revision,
  cloneUrl: e.cloneUrl,
  forge: e.forge,
  commits: e.commits,
  trigger: { event: 'git', fields: { EVENT: 'push', REPOSITORY: `${e.repoSource}/${e.repoOwner}/${e.repoName}`, BRANCH: e.branch, REVISION: e.revision } },
  chainDepth: 0,
});

/** A build.requested as a build request. */
export const fromRequest = (id: string, e: BuildRequestedData): BuildRequest => ({
  eventId: id,
  repoSource: e.repoSource,
  repoOwner: e.repoOwner,
  repoName: e.repoName,
  branch: e.branch,
  revision: e.revision,
  commits: e.commits ?? [],
  trigger: e.trigger,
  chainDepth: e.chainDepth,
  version: e.version,
  ...(e.rerunFailedOf ? { rerunFailedOf: e.rerunFailedOf } : {}),
});

const full = (r: { repoSource: string; repoOwner: string; repoName: string }) => `${r.repoSource}/${r.repoOwner}/${r.repoName}`;

/** Fills revision (and commits) of a request that has none from the pipeline's history. */
async function resolveRevision(deps: DispatchDeps, req: BuildRequest, pipeline: Pipeline | null): Promise<string | undefined> {
  if (req.revision) return req.revision;
  if (!pipeline) return undefined;
  if (req.version) {
    return (await findBuildsByVersion(deps.pool, pipeline.id, req.version))[0]?.repoRevision || undefined;
  }
  const page = await listBuilds(deps.pool, { pipelineId: pipeline.id, branch: req.branch, size: 1 });
  return page.items[0]?.repoRevision || undefined;
}

/** Dispatches one build request; returns the build (undefined when nothing was built, with the reason logged). */
export async function dispatchBuild(deps: DispatchDeps, req: BuildRequest): Promise<Build | undefined> {
  const name = full(req);
  if (req.chainDepth > deps.settings.maxChainDepth) {
    deps.log.info(`build of ${name}@${req.branch} refused: trigger chain depth ${req.chainDepth} exceeds ${deps.settings.maxChainDepth} (a trigger loop?)`);
    return undefined;
  }
  const existing = await getPipeline(deps.pool, req);
  if (existing?.archived) {
    deps.log.info(`build of ${name} skipped: the pipeline is archived`);
    return undefined;
  }
  const cloneUrl = req.cloneUrl || existing?.cloneUrl;
  if (!cloneUrl) {
    deps.log.info(`build of ${name} skipped: no clone URL known (the pipeline has never been pushed)`);
    return undefined;
  }
  const revision = await resolveRevision(deps, req, existing);
  if (!revision) {
    deps.log.info(`build of ${name}@${req.branch} skipped: no revision given and none known for the branch`);
    return undefined;
  }
  const text = await deps.scm.getManifest({ ...req, cloneUrl, forge: (req.forge || existing?.forge || undefined) as never }, revision);
  if (text === undefined) {
    deps.log.info(`${name}@${revision.slice(0, 8)} has no .estafette.yaml: nothing to build`);
    return undefined;
  }
  const loaded = loadManifest(text);
  const manifest = loaded.manifest;
  const valid = manifest !== undefined && loaded.errors.length === 0;
  if (valid && manifest.archived) {
    await upsertPipeline(deps.pool, { ...req, archived: true, manifest: text, cloneUrl, forge: req.forge });
    deps.log.info(`build of ${name} skipped: the manifest says archived`);
    return undefined;
  }
  const pipeline = await upsertPipeline(deps.pool, {
    repoSource: req.repoSource,
    repoOwner: req.repoOwner,
    repoName: req.repoName,
    cloneUrl,
    ...(req.forge ? { forge: req.forge } : {}),
    ...(valid ? { labels: manifest.labels, releaseTargets: releaseTargets(manifest), manifest: text } : {}),
  });
  if (valid) await replaceTriggers(deps.pool, pipeline.id, triggerRows(manifest));

  const rendered = (n: number) => renderVersion(valid ? manifest.version : undefined, { branch: req.branch, revision, counter: n });
  const { build, created } = await createBuild(deps.pool, {
    pipelineId: pipeline.id,
    repoSource: req.repoSource,
    repoOwner: req.repoOwner,
    repoName: req.repoName,
    branch: req.branch,
    revision,
    version: (n) => req.version ?? rendered(n).version,
    status: valid ? 'pending' : 'failed',
    labels: valid ? manifest.labels : {},
    releaseTargets: valid ? releaseTargets(manifest) : [],
    manifest: text,
    trigger: req.trigger,
    commits: req.commits,
    chainDepth: req.chainDepth,
    eventId: req.eventId,
  });

  if (!valid) {
    if (created) {
      const lines = loaded.errors.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
      await writeSystemStep(deps.pool, 'build', build.id, 'validate-manifest', ['The manifest is invalid:', ...lines]);
      deps.log.info({ buildId: build.id, pipeline: name }, `build ${build.id} of ${name} failed: invalid manifest (${lines.length} error(s))`);
    }
    return build;
  }
  if (!created && build.buildStatus !== 'pending') return build; // already dispatched and under way

  // buildRun is shared with `estafette plan`, so a preview compiles exactly what runs here.
  const compiled = compilePlan(
    manifest,
    buildRun(manifest, {
      repoSource: req.repoSource,
      repoOwner: req.repoOwner,
      repoName: req.repoName,
      branch: req.branch,
      revision,
      counter: build.buildNumber,
      ...(req.version ? { version: req.version } : {}),
      buildId: build.id,
      datetime: build.insertedAt,
      ciServerBaseUrl: deps.settings.baseUrl,
      trigger: req.trigger,
      namedTriggers: await namedTriggerFields(deps, manifest, req),
    }),
  );
  const plan = req.rerunFailedOf ? await reuseStagesBeforeFailure(deps, build, compiled, req.rerunFailedOf) : compiled;
  await setBuildPlan(deps.pool, build.id, plan);
  await startJob(deps, { kind: 'build', id: build.id, plan, cloneUrl, clone: true });
  deps.log.info({ buildId: build.id, pipeline: name }, `build ${build.id} (#${build.buildNumber}, ${build.buildVersion}) of ${name}@${req.branch} started`);
  return build;
}

