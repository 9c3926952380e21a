/**
 * Starts a build for a `git.push` or a `build.requested`: reads the manifest at the revision,
 * keeps the pipeline row (labels, targets, triggers, clone URL) in step with it, takes the next
 * build number and version in one transaction, compiles the Plan and starts the Job.
 * An invalid manifest still records a build — `failed`, with a `validate-manifest` step holding
 * the lint errors — as Estafette does. Redelivery of the same event finds the build it created
 * (builds.event_id) and at most re-starts its job, which the runner makes idempotent.
 * Scheduling (scheduling/): a push whose path filter matches none of its changed files builds
 * nothing; a push cancels the branch's builds it supersedes; a build under a concurrency limit
 * is inserted `queued` and started by admission when a slot is free.
 */
import { MAX_PUSH_COMMITS, type BuildRequestedData, type GitPushData, type TriggerInfo } from '../../shared/events/types.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import { storableText } from '../../shared/manifest/text.ts';
import { renderVersion } from '../../shared/manifest/version.ts';
import { compilePlan } from '../../shared/manifest/compile.ts';
import { buildRun } from '../../shared/manifest/build-run.ts';
import { getPipeline, upsertPipeline, type Pipeline } from '../../shared/db/pipelines.ts';
import { createBuild, findBuildsByVersion, getBuild, listBuilds, setBuildJobStart, setBuildPlan, transitionBuildStatus, type Build } from '../../shared/db/builds.ts';
import { replaceTriggers } from '../../shared/db/triggers.ts';
import { writeSystemStep } from '../../shared/logs/system-step.ts';
import type { DispatchDeps } from './deps.ts';
import { releaseTargets, triggerRows } from './manifest-facts.ts';
import { startJob } from './start-job.ts';
import { namedTriggerFields } from './named-triggers.ts';
import { adoptPlaceholder, FETCH_MANIFEST_STEP, readManifestVisibly } from './manifest-attempts.ts';
import { secretsAllowed, secretsRefusal } from './pull-requests.ts';
import { requestForgeStatus } from './report-status.ts';
import { buildLimit, pathFilterSkip } from '../../shared/manifest/scheduling.ts';
import { advanceBuilds } from './scheduling/admission.ts';
import { cancelSupersededBuilds } from './scheduling/supersede.ts';
import { pushChanges } from './scheduling/changed-files.ts';

/** Ends a pending build as failed by the system, with `lines` in a step named `step`. */
async function failBuild(deps: DispatchDeps, id: string, step: string, lines: string[]): Promise<void> {
  await writeSystemStep(deps.pool, 'build', id, step, lines);
  await transitionBuildStatus(deps.pool, id, 'failed');
}
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
  /** How many commits the push carried (commits holds at most 20). */
  commitCount?: number;
  /** The ref the builder fetches when it is not the branch (a pull request's `pull/7/head`). */
  cloneRef?: string;
  /** The tag a tag push builds (ESTAFETTE_GIT_TAG). */
  tag?: string;
  /** GitHub App installation named by the webhook. */
  installationId?: number;
  /** True when the code comes from outside the repository (a fork's pull request): no secrets, no pipeline updates. */
  untrusted?: boolean;
  /** Re-run this failed build from its first failed stage (rerun-failed.ts). */
  rerunFailedOf?: string;
  /** Set for a push: the branch head before it and the files it changed (when the forge listed them). */
  push?: { before?: string; changedFiles?: string[] };
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
  commits: e.commits.slice(-MAX_PUSH_COMMITS),
  ...(e.commitCount ? { commitCount: e.commitCount } : {}),
  ...(e.installationId ? { installationId: e.installationId } : {}),
  trigger: { event: 'git', fields: { EVENT: 'push', REPOSITORY: `${e.repoSource}/${e.repoOwner}/${e.repoName}`, BRANCH: e.branch, REVISION: e.revision } },
  chainDepth: 0,
  push: { ...(e.before ? { before: e.before } : {}), ...(e.changedFiles ? { changedFiles: e.changedFiles } : {}) },
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
  // Why nothing is built: logged, and told to a webhook waiting for this push.
  const skip = (reason: string): undefined => {
    deps.log.info({ pipeline: name }, reason);
    deps.outcomes?.publish({ eventId: req.eventId, outcome: 'skipped', reason });
    return undefined;
  };
  if (req.chainDepth > deps.settings.maxChainDepth) {
    return skip(`build of ${name}@${req.branch} refused: trigger chain depth ${req.chainDepth} exceeds ${deps.settings.maxChainDepth} (a trigger loop?)`);
  }
  const existing = await getPipeline(deps.pool, req);
  if (existing?.archived) return skip(`build of ${name} skipped: the pipeline is archived`);
  const cloneUrl = req.cloneUrl || existing?.cloneUrl;
  if (!cloneUrl) return skip(`build of ${name} skipped: no clone URL known (the pipeline has never been pushed)`);
  const revision = await resolveRevision(deps, req, existing);
  if (!revision) return skip(`build of ${name}@${req.branch} skipped: no revision given and none known for the branch`);
  const location = { ...req, cloneUrl, forge: req.forge || existing?.forge || undefined };
  const read = await readManifestVisibly(deps, req, { pipeline: existing, cloneUrl, revision, location });
  if (read.kind === 'stop') return read.build;
  const { text, placeholder, problem } = read;
  if (text === undefined) {
    if (placeholder) {
      // Earlier attempts showed a pending build (and told the forge); it ends here.
      await failBuild(deps, placeholder.id, FETCH_MANIFEST_STEP, [`${name}@${revision} has no .estafette.yaml: nothing to build`]);
      await requestForgeStatus(deps, { kind: 'build', id: placeholder.id, repoSource: req.repoSource, repoOwner: req.repoOwner, repoName: req.repoName, branch: req.branch, revision }, 'failed');
    }
    return skip(`${name}@${revision.slice(0, 8)} has no .estafette.yaml: nothing to build`);
  }
  // Not UTF-8, or text no manifest may hold (NUL): an invalid manifest like any other, failed with the reason.
  const loaded = problem ? { errors: [{ field: '', message: problem, severity: 'error' as const }], warnings: [], manifest: undefined } : loadManifest(text);
  const stored = storableText(text);
  const manifest = loaded.manifest;
  const valid = manifest !== undefined && loaded.errors.length === 0;
  // A fork's pull request builds its own manifest but never changes what the pipeline stores.
  const trusted = secretsAllowed(req);
  if (valid && manifest.archived && trusted) {
    await upsertPipeline(deps.pool, { ...req, archived: true, manifest: stored, cloneUrl, forge: req.forge });
    return skip(`build of ${name} skipped: the manifest says archived`);
  }
  const pipeline = trusted
    ? await upsertPipeline(deps.pool, {
        repoSource: req.repoSource,
        repoOwner: req.repoOwner,
        repoName: req.repoName,
        cloneUrl,
        ...(req.forge ? { forge: req.forge } : {}),
        ...(valid ? { labels: manifest.labels, releaseTargets: releaseTargets(manifest), manifest: stored } : {}),
      })
    : (existing ?? (await upsertPipeline(deps.pool, { repoSource: req.repoSource, repoOwner: req.repoOwner, repoName: req.repoName, ...(req.forge ? { forge: req.forge } : {}) })));
  if (valid && trusted) await replaceTriggers(deps.pool, pipeline.id, triggerRows(manifest));

  const changes = req.push ? await pushChanges(deps, location, req.push, revision) : undefined;
  const filtered = valid ? pathFilterSkip(manifest, changes?.files) : undefined;
  if (filtered) {
    const reason = `push of ${name}@${req.branch} (${revision.slice(0, 8)}) builds nothing: ${filtered}`;
    if (placeholder) {
      // Earlier attempts showed a pending build (and told the forge); the filter ends it.
      const ended = await transitionBuildStatus(deps.pool, placeholder.id, 'canceled', { reason: filtered });
      await requestForgeStatus(deps, { kind: 'build', id: ended.id, repoSource: req.repoSource, repoOwner: req.repoOwner, repoName: req.repoName, branch: req.branch, revision }, 'canceled');
    }
    return skip(reason);
  }
  const limits = valid ? buildLimit(manifest) : undefined;
  const maxRunning = deps.settings.maxRunningBuilds ?? 0;
  // Through the queue when a limit applies; otherwise straight to pending, as before scheduling existed.
  const queue = limits || maxRunning > 0 ? { ...(limits ? { limit: limits.limit } : {}), perBranch: limits?.perBranch ?? false, global: maxRunning > 0 } : undefined;

  const rendered = (n: number) => renderVersion(valid ? manifest.version : undefined, { branch: req.branch, revision, counter: n });
  const facts = { labels: valid ? manifest.labels : {}, releaseTargets: valid ? releaseTargets(manifest) : [] };
  let { build, created } = await createBuild(deps.pool, {
    pipelineId: pipeline.id,
    repoSource: req.repoSource,
    repoOwner: req.repoOwner,
    repoName: req.repoName,
    branch: req.branch,
    revision,
    version: (n) => req.version ?? rendered(n).version,
    status: !valid ? 'failed' : queue ? 'queued' : 'pending',
    ...(valid && queue ? { queue } : {}),
    ...facts,
    manifest: stored,
    trigger: req.trigger,
    commits: req.commits,
    ...(req.commitCount ? { commitCount: req.commitCount } : {}),
    chainDepth: req.chainDepth,
    eventId: req.eventId,
  });
  if (placeholder && !created && build.id === placeholder.id) {
    // Made pending by earlier attempts that could not read the manifest: it is this build.
    const adopted = await adoptPlaceholder(deps, placeholder, { version: (n) => req.version ?? rendered(n).version, ...facts, manifest: stored });
    if (!adopted) return build;
    build = adopted;
    created = true;
    if (!valid) build = await transitionBuildStatus(deps.pool, build.id, 'failed');
  }
  const subject = { kind: 'build' as const, id: build.id, repoSource: req.repoSource, repoOwner: req.repoOwner, repoName: req.repoName, branch: req.branch, revision };
  if (created && !placeholder) await requestForgeStatus(deps, subject, 'pending');

  if (!valid) {
    if (created) {
      const lines = loaded.errors.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message));
      await writeSystemStep(deps.pool, 'build', build.id, 'validate-manifest', ['The manifest is invalid:', ...lines]);
      await requestForgeStatus(deps, subject, 'failed');
      deps.log.info({ buildId: build.id, pipeline: name }, `build ${build.id} of ${name} failed: invalid manifest (${lines.length} error(s))`);
    }
    deps.outcomes?.publish({ eventId: req.eventId, outcome: 'build', buildId: build.id, buildNumber: build.buildNumber, buildStatus: build.buildStatus, reason: 'invalid manifest' });
    return build;
  }
  // A redelivery re-runs what may not have happened: a queued build's plan and admission, a pending build's start.
  if (!created && build.buildStatus !== 'pending' && build.buildStatus !== 'queued') return build;

  // buildRun is shared with `estafette plan`, so a preview compiles exactly what runs here.
  const compiled = compilePlan(manifest, {
    ...buildRun(manifest, {
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
    ...(req.tag ? { tag: req.tag } : {}),
    ...(changes ? { changes } : {}),
  });
  const plan = req.rerunFailedOf ? await reuseStagesBeforeFailure(deps, build, compiled, req.rerunFailedOf) : compiled;
  await setBuildPlan(deps.pool, build.id, plan);
  const refusal = secretsAllowed(req) ? undefined : secretsRefusal(plan);
  if (refusal) {
    await failBuild(deps, build.id, 'validate-secrets', [refusal]);
    await requestForgeStatus(deps, subject, 'failed');
    deps.log.info({ buildId: build.id, pipeline: name }, `build ${build.id} of ${name}@${req.branch} failed: ${refusal}`);
    return build;
  }
  const start = { cloneUrl, secretsAllowed: secretsAllowed(req), ...(req.cloneRef ? { cloneRef: req.cloneRef } : {}), cloneAccess: location };
  const superseded = req.push ? await cancelSupersededBuilds(deps, manifest, build) : [];
  if (build.buildStatus === 'queued') {
    // Admission starts it, maybe in another instance: it needs how to start the Job.
    await setBuildJobStart(deps.pool, build.id, start);
    await advanceBuilds(deps);
    const now = (await getBuild(deps.pool, build.id)) ?? build;
    const where = now.buildStatus === 'queued' ? `queued at position ${now.queuePosition}` : now.buildStatus === 'canceled' ? `canceled: ${now.statusReason}` : 'started';
    deps.log.info({ buildId: build.id, pipeline: name }, `build ${build.id} (#${build.buildNumber}, ${build.buildVersion}) of ${name}@${req.branch} ${where}`);
    deps.outcomes?.publish({ eventId: req.eventId, outcome: 'build', buildId: build.id, buildNumber: build.buildNumber, buildStatus: now.buildStatus, ...(now.statusReason ? { reason: now.statusReason } : {}) });
    return now;
  }
  if (superseded.some((b) => b.id === build.id)) {
    // A newer push of the branch was dispatched first: this build never starts.
    const now = (await getBuild(deps.pool, build.id)) ?? build;
    deps.log.info({ buildId: build.id, pipeline: name }, `build ${build.id} (#${build.buildNumber}) of ${name}@${req.branch} not started: ${now.statusReason}`);
    deps.outcomes?.publish({ eventId: req.eventId, outcome: 'build', buildId: build.id, buildNumber: build.buildNumber, buildStatus: now.buildStatus, reason: now.statusReason });
    return now;
  }
  await startJob(deps, { kind: 'build', id: build.id, plan, clone: true, ...start });
  deps.log.info({ buildId: build.id, pipeline: name }, `build ${build.id} (#${build.buildNumber}, ${build.buildVersion}) of ${name}@${req.branch} started`);
  deps.outcomes?.publish({ eventId: req.eventId, outcome: 'build', buildId: build.id, buildNumber: build.buildNumber, buildStatus: 'pending' });
  return build;
}
