/**
 * A manifest that cannot be read is visible at once. When the forge API fails (down, 401, a
 * repository it does not show, no answer in time), dispatch does not just throw and wait for
 * the bus: it records the build — `pending`, on the pipeline, with a `fetch-manifest` step whose
 * run n says that attempt n of N failed and why (the cause kept: `getaddrinfo ENOTFOUND
 * api.github.com`) — and then throws, so the bus redelivers with its backoff. An attempt that
 * reads the manifest adopts that build (version, labels and targets from the manifest) and goes
 * on as usual; the last failed attempt fails the build and detaches it from its event, so a
 * forge redelivery of the same delivery builds again. The failure log line names repository,
 * branch and revision.
 */
import type { Build } from '../../shared/db/builds.ts';
import { completeBuildManifest, createBuild, getBuildByEvent, releaseBuildEvent, touchBuild, transitionBuildStatus } from '../../shared/db/builds.ts';
import { upsertPipeline, type Pipeline } from '../../shared/db/pipelines.ts';
import { listStageRuns } from '../../shared/db/stages.ts';
import { writeSystemStep } from '../../shared/logs/system-step.ts';
import { renderVersion } from '../../shared/manifest/version.ts';
import { errorMessage } from '../../shared/log/logger.ts';
import { ManifestEncodingError } from '../../shared/manifest/text.ts';
import { MANIFEST_FILE, type RepoLocation } from '../../shared/scm/provider.ts';
import type { ReleaseTargetDef } from '../../shared/db/pipelines.ts';
import type { DispatchDeps } from './deps.ts';
import { requestForgeStatus } from './report-status.ts';
import type { BuildRequest } from './start-build.ts';

/** The system step of manifest reading. */
export const FETCH_MANIFEST_STEP = 'fetch-manifest';

/** A manifest that could not be read yet; the bus redelivers the event on it. */
class ManifestUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestUnreadableError';
  }
}

/** What reading the manifest gave. */
export type ManifestRead =
  /**
   * The text (undefined: the revision has no manifest) and the build earlier failed attempts made,
   * if any; `problem` when the forge's answer is no manifest text at all (not UTF-8): the build fails with it.
   */
  | { kind: 'read'; text: string | undefined; placeholder: Build | null; problem?: string }
  /** Nothing more to do: the build failed after its last attempt, or was already ended. */
  | { kind: 'stop'; build: Build };

interface ReadContext {
  pipeline: Pipeline | null;
  cloneUrl: string;
  revision: string;
  location: RepoLocation;
}

/** The fetch-manifest runs of a build so far: how many, and whether the last one failed. */
async function attemptsOf(deps: DispatchDeps, buildId: string): Promise<{ count: number; lastFailed: boolean }> {
  const runs = (await listStageRuns(deps.pool, 'build', buildId)).filter((s) => s.stage === FETCH_MANIFEST_STEP).sort((a, b) => a.run - b.run);
  const last = runs[runs.length - 1];
  return { count: last?.run ?? 0, lastFailed: last?.status === 'failed' };
}

/** Reads the manifest of a build request, making a failure visible in its build (see the header). */
export async function readManifestVisibly(deps: DispatchDeps, req: BuildRequest, ctx: ReadContext): Promise<ManifestRead> {
  let text: string | undefined;
  let problem: { problem: string } | undefined;
  try {
    text = await deps.scm.getManifest(ctx.location, ctx.revision);
  } catch (err) {
    // Read, but not text: retrying cannot help, so the build fails at once with the reason.
    if (err instanceof ManifestEncodingError) [text, problem] = ['', { problem: err.message }];
    else return shownFailure(deps, req, ctx, errorMessage(err));
  }
  const placeholder = await getBuildByEvent(deps.pool, req.eventId);
  if (placeholder?.buildStatus !== 'pending') return { kind: 'read', text, placeholder: null, ...problem };
  const before = await attemptsOf(deps, placeholder.id);
  if (!before.lastFailed) return { kind: 'read', text, placeholder: null, ...problem };
  const attempt = before.count + 1;
  await writeSystemStep(deps.pool, 'build', placeholder.id, FETCH_MANIFEST_STEP, [`attempt ${attempt}: read ${MANIFEST_FILE} at ${ctx.revision}`], 'succeeded', attempt);
  return { kind: 'read', text, placeholder, ...problem };
}

async function shownFailure(deps: DispatchDeps, req: BuildRequest, ctx: ReadContext, cause: string): Promise<ManifestRead> {
  const name = `${req.repoSource}/${req.repoOwner}/${req.repoName}`;
  const max = deps.settings.manifestAttempts;
  // The pipeline row exists from here on, so the build shows on it (a fork's PR never sets its clone URL).
  const pipeline =
    ctx.pipeline ??
    (await upsertPipeline(deps.pool, {
      repoSource: req.repoSource,
      repoOwner: req.repoOwner,
      repoName: req.repoName,
      ...(req.untrusted ? {} : { cloneUrl: ctx.cloneUrl }),
      ...(req.forge ? { forge: req.forge } : {}),
    }));
  const { build, created } = await createBuild(deps.pool, {
    pipelineId: pipeline.id,
    repoSource: req.repoSource,
    repoOwner: req.repoOwner,
    repoName: req.repoName,
    branch: req.branch,
    revision: ctx.revision,
    version: (n) => req.version ?? renderVersion(undefined, { branch: req.branch, revision: ctx.revision, counter: n }).version,
    status: 'pending',
    trigger: req.trigger,
    commits: req.commits,
    ...(req.commitCount ? { commitCount: req.commitCount } : {}),
    chainDepth: req.chainDepth,
    eventId: req.eventId,
  });
  if (build.buildStatus !== 'pending') return { kind: 'stop', build };
  const subject = { kind: 'build' as const, id: build.id, repoSource: req.repoSource, repoOwner: req.repoOwner, repoName: req.repoName, branch: req.branch, revision: ctx.revision };
  if (created) await requestForgeStatus(deps, subject, 'pending');
  const attempt = (await attemptsOf(deps, build.id)).count + 1;
  const last = attempt >= max;
  await writeSystemStep(
    deps.pool,
    'build',
    build.id,
    FETCH_MANIFEST_STEP,
    [`attempt ${attempt} of ${max} to read ${MANIFEST_FILE} at ${ctx.revision} failed: ${cause}`, last ? 'that was the last attempt: the build fails' : 'the build stays pending and reading is retried with backoff'],
    'failed',
    attempt,
  );
  const fields = { buildId: build.id, pipeline: name, branch: req.branch, revision: ctx.revision, attempt, cause };
  if (!last) {
    await touchBuild(deps.pool, build.id);
    throw new ManifestUnreadableError(`cannot read ${MANIFEST_FILE} of ${name} branch ${req.branch} revision ${ctx.revision} (attempt ${attempt} of ${max}): ${cause}`);
  }
  const failed = await transitionBuildStatus(deps.pool, build.id, 'failed');
  await releaseBuildEvent(deps.pool, build.id);
  await requestForgeStatus(deps, subject, 'failed');
  deps.log.error(fields, `build ${build.id} of ${name} branch ${req.branch} revision ${ctx.revision} failed: ${MANIFEST_FILE} unreadable after ${attempt} attempts: ${cause}`);
  return { kind: 'stop', build: failed };
}

/**
 * Gives the build made by earlier failed attempts what the manifest says, now that it has been
 * read; undefined when it left `pending` meanwhile (canceled, or failed by housekeeping).
 */
export async function adoptPlaceholder(
  deps: DispatchDeps,
  placeholder: Build,
  facts: { version: (n: number) => string; labels: Record<string, string>; releaseTargets: ReleaseTargetDef[]; manifest: string },
): Promise<Build | undefined> {
  return (
    (await completeBuildManifest(deps.pool, placeholder.id, {
      version: facts.version(placeholder.buildNumber),
      labels: facts.labels,
      releaseTargets: facts.releaseTargets,
      manifest: facts.manifest,
    })) ?? undefined
  );
}
