/**
 * The actions of query-api, validated here and then published as events for build-dispatch
 * (201 with the created build or release when it appears in time, else 202 + the event id): rebuild or build a branch, re-run a failed build's failed stages,
 * cancel a build or release, release a version to a target.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { actor, type Principal } from '../../shared/auth/access.ts';
import { findBuildsByVersion, getBuildByEvent } from '../../shared/db/builds.ts';
import { getReleaseByEvent } from '../../shared/db/releases.ts';
import { NotFoundError } from '../../shared/db/errors.ts';
import { HttpError, ValidationError } from '../../shared/errors/http-error.ts';
import { isCommitId, isRefName, refForMessage } from '../../shared/git/ref-name.ts';
import { json, type HttpResponse } from '../../shared/http/types.ts';
import type { Publish } from '../../shared/runtime/runtime.ts';
import { isFinalJobStatus } from '../../shared/status/status.ts';
import { buildJson, releaseJson } from './estafette-shapes.ts';
import type { Lookups } from './lookups.ts';
import * as p from './params.ts';
import { refuseWhenBusy } from './release-busy.ts';
import type { RouteContext } from './router.ts';

type Ctx = RouteContext<Principal>;

/** The trigger of a run someone asked for by hand: `manual`, naming them (ESTAFETTE_TRIGGER_MANUAL_USER_ID). */
const manualTrigger = (principal: Principal) => ({ event: 'manual', fields: { USER_ID: actor(principal) } });

/** What the actions need. */
export interface JobActionDeps {
  pool: pg.Pool;
  publish: Publish;
  /** How long a rebuild or release waits for build-dispatch to create its job, to answer with it (default 3000 ms; 0 answers 202 at once). */
  createdWaitMs?: number;
}

const POLL_MS = 100;

/** The action handlers. */
export function jobActions(deps: JobActionDeps, { pipelineOf, buildOf, releaseOf }: Lookups) {
  const { pool } = deps;
  const waitMs = deps.createdWaitMs ?? 3000;

  /**
   * The answer to an action that creates a job: as Estafette, 201 with the created build or
   * release (plus `eventId`) once build-dispatch made it — it is an event away, so this polls
   * for the job the event created for a short while — else 202 `{eventId}`, and the client
   * follows with `…?filter[eventId]=`.
   */
  async function created(kind: 'build' | 'release', eventId: string): Promise<HttpResponse> {
    for (const deadline = Date.now() + waitMs; Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const job = kind === 'build' ? await getBuildByEvent(pool, eventId) : await getReleaseByEvent(pool, eventId);
      if (job) return json(201, { ...('buildVersion' in job ? buildJson(job) : releaseJson(job)), eventId });
    }
    return json(202, { eventId });
  }

  async function rebuild(c: Ctx): Promise<HttpResponse> {
    const pl = await pipelineOf(c);
    const body = p.jsonBody(c.req);
    const version = p.optionalField(body, 'buildVersion', 200);
    const repo = { repoSource: pl.repoSource, repoOwner: pl.repoOwner, repoName: pl.repoName };
    const base = { ...repo, trigger: manualTrigger(c.principal), requestedBy: actor(c.principal), chainDepth: 0 };
    const eventId = randomUUID();
    if (version) {
      const b = (await findBuildsByVersion(pool, pl.id, version))[0];
      if (!b) throw new NotFoundError(`version ${version} of ${pl.repoOwner}/${pl.repoName}`);
      // A rebuild keeps what the build was of (its commits), and says who asked for it.
      await deps.publish('build.requested', { ...base, branch: b.repoBranch, revision: b.repoRevision, version: b.buildVersion, commits: b.commits }, { id: eventId, subject: pl.id });
    } else {
      const branch = p.optionalField(body, 'branch', 500);
      if (!branch) throw new ValidationError('give buildVersion (rebuild a version) or branch (build a branch)');
      if (!isRefName(branch)) throw new ValidationError(`branch is not a valid git branch name: ${refForMessage(branch)}`);
      const revision = p.optionalField(body, 'revision', 64);
      if (revision !== undefined && !isCommitId(revision)) throw new ValidationError('revision must be a full commit id (40 or 64 hex characters)');
      await deps.publish('build.requested', { ...base, branch, ...(revision ? { revision: revision.toLowerCase() } : {}) }, { id: eventId, subject: pl.id });
    }
    return created('build', eventId);
  }

  /**
   * `POST …/builds/:id/rerun-failed`: a new build of the same version and revision that runs a
   * failed build again from its first failed stage; the stages before it keep their result
   * (build-dispatch marks them reused, the builder skips them), as GitHub's "re-run failed jobs".
   */
  async function rerunFailed(c: Ctx): Promise<HttpResponse> {
    const b = await buildOf(c);
    if (b.buildStatus !== 'failed') throw new HttpError(409, `build ${b.id} is ${b.buildStatus}; only a failed build can re-run its failed stages`);
    const eventId = randomUUID();
    await deps.publish(
      'build.requested',
      {
        repoSource: b.repoSource,
        repoOwner: b.repoOwner,
        repoName: b.repoName,
        branch: b.repoBranch,
        revision: b.repoRevision,
        version: b.buildVersion,
        commits: b.commits,
        trigger: manualTrigger(c.principal),
        requestedBy: actor(c.principal),
        chainDepth: 0,
        rerunFailedOf: b.id,
      },
      { id: eventId, subject: b.pipelineId },
    );
    return created('build', eventId);
  }

  async function cancel(c: Ctx, kind: 'build' | 'release'): Promise<HttpResponse> {
    const job = kind === 'build' ? await buildOf(c) : await releaseOf(c);
    const status = 'buildStatus' in job ? job.buildStatus : job.releaseStatus;
    if (isFinalJobStatus(status)) throw new HttpError(409, `${kind} ${job.id} already finished (${status})`);
    const eventId = randomUUID();
    await deps.publish(kind === 'build' ? 'build.cancel' : 'release.cancel', { id: job.id, requestedBy: actor(c.principal) }, { id: eventId, subject: job.id });
    return json(202, { eventId });
  }

  async function release(c: Ctx): Promise<HttpResponse> {
    const pl = await pipelineOf(c);
    const body = p.jsonBody(c.req);
    const name = p.field(body, 'name', 200);
    const action = p.optionalField(body, 'action', 200);
    const version = p.field(body, 'releaseVersion', 200);
    const builds = await findBuildsByVersion(pool, pl.id, version);
    if (!builds.length) throw new NotFoundError(`version ${version} of ${pl.repoOwner}/${pl.repoName}`);
    const build = builds.find((b) => b.buildStatus === 'succeeded');
    if (!build) throw new HttpError(409, `version ${version} has no succeeded build (latest is ${builds[0]!.buildStatus}); only succeeded builds can be released`);
    const target = build.releaseTargets.find((t) => t.name === name);
    if (!target) {
      const names = build.releaseTargets.map((t) => t.name);
      throw new ValidationError(`release target '${name}' is not in the manifest of version ${version}${names.length ? ` (it has ${names.join(', ')})` : ' (it has none)'}`);
    }
    const actions = target.actions.map((a) => a.name);
    if (action !== undefined && !actions.includes(action)) {
      throw new ValidationError(`release target '${name}' has no action '${action}'${actions.length ? ` (it has ${actions.join(', ')})` : ''}`);
    }
    if (action === undefined && actions.length) throw new ValidationError(`release target '${name}' needs an action: one of ${actions.join(', ')}`);
    const ifBusy = p.optionalField(body, 'ifBusy', 10);
    if (ifBusy !== undefined && ifBusy !== 'queue' && ifBusy !== 'refuse') throw new ValidationError("ifBusy must be 'queue' (default) or 'refuse'");
    if (ifBusy === 'refuse') await refuseWhenBusy(pool, { pipelineId: pl.id, name, action: action ?? '', buildId: build.id });
    const eventId = randomUUID();
    await deps.publish(
      'release.requested',
      {
        repoSource: pl.repoSource,
        repoOwner: pl.repoOwner,
        repoName: pl.repoName,
        name,
        ...(action ? { action } : {}),
        version,
        trigger: manualTrigger(c.principal),
        requestedBy: actor(c.principal),
        chainDepth: 0,
        ...(ifBusy ? { ifBusy } : {}),
      },
      { id: eventId, subject: pl.id },
    );
    return created('release', eventId);
  }

  return { rebuild, rerunFailed, cancel, release };
}
