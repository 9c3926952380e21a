/**
 * query-api: the REST API of docs/API.md for the web UI and CLI — pipelines, builds, releases,
 * their stages and logs (stored, searched, as plain text, and live over Server-Sent Events),
 * insights, manifest validate/encrypt, sign-in — plus, in local mode, the built UI. Reads go straight to the query
 * modules; rebuild/re-run/cancel/release are validated here and then published as events for
 * build-dispatch (202 + the event id). Errors are thrown as HttpErrors and become JSON in the
 * node adapter; nothing here catches and logs.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { actor, authenticate, authorize, checkCsrf, type Principal } from '../../shared/auth/access.ts';
import type { AuthSettings } from '../../shared/auth/settings.ts';
import type { LiveLogs } from '../../shared/bus/live-logs.ts';
import {
  buildDurations,
  buildSuccessRate,
  countBuilds,
  findBuildByRevision,
  findBuildsByVersion,
  getBuild,
  getBuildPlan,
  latestBuildPerBranch,
  listBuilds,
  type Build,
} from '../../shared/db/builds.ts';
import { NotFoundError } from '../../shared/db/errors.ts';
import { isId } from '../../shared/db/ids.ts';
import { readLogLines, searchLogLines } from '../../shared/db/logs.ts';
import { countPipelines, getPipeline, listPipelines, withActiveReleases, type Pipeline, type PipelineFilter } from '../../shared/db/pipelines.ts';
import { countReleases, getRelease, getReleasePlan, listReleases, releaseStats, type Release, type ReleaseFilter } from '../../shared/db/releases.ts';
import { listStageRuns, type JobKind } from '../../shared/db/stages.ts';
import { listTriggers } from '../../shared/db/triggers.ts';
import { HttpError, ValidationError } from '../../shared/errors/http-error.ts';
import { isCommitId, isRefName, refForMessage } from '../../shared/git/ref-name.ts';
import { json, type HttpHandler, type HttpRequest, type HttpResponse } from '../../shared/http/types.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import type { Publish } from '../../shared/runtime/runtime.ts';
import { encryptSecret, SecretError } from '../../shared/secrets/secret.ts';
import { isFinalJobStatus } from '../../shared/status/status.ts';
import { buildSummaries } from './build-summaries.ts';
import { lastEventSeq, logStream } from './log-stream.ts';
import { logText } from './log-text.ts';
import { plannedStages } from './planned-stages.ts';
import * as p from './params.ts';
import { Router, type Route, type RouteContext } from './router.ts';
import { clientLogin, handle, login, logout, me, providers } from './sign-in.ts';
import { describeTriggers } from './trigger-descriptions.ts';
import { serveStatic } from './static-files.ts';
import { approvalRoutes } from './approval-routes.ts';
import { botRoutes } from './bot-routes.ts';
import { refuseWhenBusy } from './release-busy.ts';
import type { Logger } from '../../shared/log/logger.ts';

/** What the handler needs; no transport of its own. */
export interface QueryApiDeps {
  pool: pg.Pool;
  liveLogs: LiveLogs;
  publish: Publish;
  /** Sign-in and roles; `{ enabled: false }` in local mode (everyone is an administrator). */
  auth: AuthSettings;
  /** ESTAFETTE_SECRET_KEY for /api/manifest/encrypt (503 without it). */
  secretKey?: string;
  /** Folder of the built UI (frontend/dist) to serve for non-/api GETs, local mode only. */
  staticDir?: string;
  /** SSE ping interval in ms (default 15 000). */
  pingMs?: number;
  /** fetch for the OAuth provider calls (default global fetch). */
  fetch?: typeof fetch;
  /** Structured log lines (ids as fields). */
  log: Logger;
}

type Ctx = RouteContext<Principal>;

/** The trigger of a run someone asked for by hand: `manual`, naming them (ESTAFETTE_TRIGGER_MANUAL_USER_ID). */
const manualTrigger = (principal: Principal) => ({ event: 'manual', fields: { USER_ID: actor(principal) } });

/** `text` as a regular expression matching exactly that text. */
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const REVISION = /^[0-9a-f]{40}$/i;

/** The query-api handler. */
export function makeHandler(deps: QueryApiDeps): HttpHandler {
  const { pool } = deps;

  const pipelineOf = async (c: Ctx): Promise<Pipeline> => {
    const ref = { repoSource: c.params.source!, repoOwner: c.params.owner!, repoName: c.params.repo! };
    const pl = await getPipeline(pool, ref);
    if (!pl) throw new NotFoundError(`pipeline ${ref.repoSource}/${ref.repoOwner}/${ref.repoName}`);
    return pl;
  };
  const buildOf = async (c: Ctx, opts: { withManifest?: boolean } = {}): Promise<Build> => {
    const pl = await pipelineOf(c);
    const id = c.params.id!;
    const b = REVISION.test(id) ? await findBuildByRevision(pool, pl.id, id.toLowerCase()) : isId(id) ? await getBuild(pool, id, opts) : null;
    if (!b || b.pipelineId !== pl.id) throw new NotFoundError(`build ${id.slice(0, 40)}`);
    if (opts.withManifest && b.manifest === undefined) return (await getBuild(pool, b.id, opts))!;
    return b;
  };
  const releaseOf = async (c: Ctx): Promise<Release> => {
    const pl = await pipelineOf(c);
    const id = c.params.id!;
    const r = isId(id) ? await getRelease(pool, id) : null;
    if (!r || r.pipelineId !== pl.id) throw new NotFoundError(`release ${id.slice(0, 40)}`);
    return r;
  };
  const jobOf = async (c: Ctx, kind: JobKind): Promise<{ id: string; status: () => Promise<Build['buildStatus'] | null> }> => {
    if (kind === 'build') {
      const b = await buildOf(c);
      return { id: b.id, status: async () => (await getBuild(pool, b.id))?.buildStatus ?? null };
    }
    const r = await releaseOf(c);
    return { id: r.id, status: async () => (await getRelease(pool, r.id))?.releaseStatus ?? null };
  };

  const pipelineFilter = (q: URLSearchParams): PipelineFilter => ({
    ...p.paging(q),
    statuses: p.statuses(q),
    since: p.since(q),
    labels: p.labels(q),
    search: p.text(q, 'filter[search]'),
    archived: p.bool(q, 'filter[archived]'),
    sort: p.pipelineSort(q),
  });
  const releaseFilter = (q: URLSearchParams): ReleaseFilter => ({ ...p.paging(q), statuses: p.statuses(q), since: p.since(q), target: p.text(q, 'filter[target]') });
  const buildFilter = (q: URLSearchParams) => ({
    ...p.paging(q),
    statuses: p.statuses(q),
    since: p.since(q),
    branch: p.text(q, 'filter[branch]', 500),
    eventId: p.text(q, 'filter[eventId]', 100),
  });

  const { withEstimates, buildPage, withLastBuildDetails } = buildSummaries(pool);

  // The views of a job's stages and log, shared by builds and releases.
  const stages = (kind: JobKind) => async (c: Ctx) => {
    const { id } = await jobOf(c, kind);
    const [runs, plan] = await Promise.all([listStageRuns(pool, kind, id), kind === 'release' ? getReleasePlan(pool, id) : getBuildPlan(pool, id)]);
    return json(200, { items: plannedStages(plan, runs) });
  };
  const logs = (kind: JobKind) => async (c: Ctx) => {
    const q = c.req.query;
    const stage = p.text(q, 'stage', 512);
    if (q.has('q')) {
      // Search: the seqs of the matching lines across the whole log, for next/previous in the UI.
      const text = p.text(q, 'q', 200);
      if (!text) throw new ValidationError('q must be a non-empty text to search for');
      const limit = p.intParam(q, 'limit', 10_000, 1, 100_000)!;
      const job = await jobOf(c, kind);
      const found = await searchLogLines(pool, kind, job.id, text, { limit, ...(stage ? { stage } : {}) });
      return json(200, { q: text, count: found.matches.length, truncated: found.truncated, matches: found.matches });
    }
    const afterSeq = p.intParam(q, 'after', -1, -1, Number.MAX_SAFE_INTEGER)!;
    const limit = p.intParam(q, 'limit', 5000, 1, 50_000)!;
    const job = await jobOf(c, kind);
    return json(200, { items: await readLogLines(pool, kind, job.id, { afterSeq, limit, ...(stage ? { stage } : {}) }) });
  };
  const text = (kind: 'build' | 'release') => async (c: Ctx) => {
    const q = c.req.query;
    const job = kind === 'build' ? await buildOf(c) : await releaseOf(c);
    const repo = `${job.repoSource}/${job.repoOwner}/${job.repoName}`;
    const title =
      'buildVersion' in job
        ? `Build ${job.buildVersion} (#${job.buildNumber}) of ${repo}, branch ${job.repoBranch} at ${job.repoRevision.slice(0, 7)}: ${job.buildStatus}`
        : `Release ${job.releaseVersion} of ${repo} to ${job.name}${job.action ? `/${job.action}` : ''}: ${job.releaseStatus}`;
    const fileName = 'buildVersion' in job ? `${job.repoName}-${job.buildVersion}-build-${job.buildNumber}` : `${job.repoName}-${job.releaseVersion}-release-${job.name}`;
    const stage = p.text(q, 'stage', 512);
    return logText({ pool, kind, id: job.id, title, fileName, ansi: p.flag(q, 'ansi') ?? false, download: p.flag(q, 'download') ?? false, ...(stage ? { stage } : {}) });
  };
  const stream = (kind: JobKind) => async (c: Ctx) => {
    const job = await jobOf(c, kind);
    const afterSeq = lastEventSeq(c.req.headers['last-event-id'], c.req.query.get('lastEventId'));
    return logStream({ pool, liveLogs: deps.liveLogs, kind, id: job.id, afterSeq, status: job.status, ...(deps.pingMs ? { pingMs: deps.pingMs } : {}) });
  };

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
    return json(202, { eventId });
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
        repoSource: b.repoSource, repoOwner: b.repoOwner, repoName: b.repoName, branch: b.repoBranch, revision: b.repoRevision, version: b.buildVersion,
        commits: b.commits, trigger: manualTrigger(c.principal), requestedBy: actor(c.principal), chainDepth: 0, rerunFailedOf: b.id,
      },
      { id: eventId, subject: b.pipelineId },
    );
    return json(202, { eventId });
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
        repoSource: pl.repoSource, repoOwner: pl.repoOwner, repoName: pl.repoName, name, ...(action ? { action } : {}), version,
        trigger: manualTrigger(c.principal), requestedBy: actor(c.principal), chainDepth: 0, ...(ifBusy ? { ifBusy } : {}),
      },
      { id: eventId, subject: pl.id },
    );
    return json(202, { eventId });
  }

  async function encrypt(c: Ctx): Promise<HttpResponse> {
    if (!deps.secretKey) throw new HttpError(503, 'secret encryption is not configured (set ESTAFETTE_SECRET_KEY)');
    const body = p.jsonBody(c.req);
    if (typeof body.value !== 'string') throw new ValidationError('value is required (a string)');
    if (body.value.length > 1024 * 1024) throw new ValidationError('value is longer than 1 MiB');
    for (const k of ['base64', 'double'] as const) if (body[k] !== undefined && typeof body[k] !== 'boolean') throw new ValidationError(`${k} must be true or false`);
    // An empty allow list means the one pipeline the secret is for (the safer reading); every
    // pipeline has to be asked for explicitly with `.*`.
    const pipeline = p.optionalField(body, 'pipeline', 500);
    if (pipeline !== undefined && !/^[^/\s]+\/[^/\s]+\/[^/\s]+$/.test(pipeline)) throw new ValidationError('pipeline must look like source/owner/name, e.g. github.com/my-org/my-repo');
    const given = p.optionalField(body, 'pipelineAllowList', 1000);
    if (given === undefined && pipeline === undefined) {
      throw new ValidationError('give pipeline (the secret is then usable by that pipeline only) or pipelineAllowList (a regular expression; .* for every pipeline)');
    }
    const allowList = given ?? escapeRegExp(pipeline!);
    const value = body.base64 ? Buffer.from(body.value, 'utf8').toString('base64') : body.value;
    try {
      const once = encryptSecret(value, deps.secretKey, allowList);
      return json(200, { secret: body.double ? encryptSecret(once, deps.secretKey, allowList) : once });
    } catch (err) {
      if (err instanceof SecretError) throw new ValidationError(err.message);
      throw err;
    }
  }

  const PL = '/api/pipelines/:source/:owner/:repo';
  const routes: Route<Principal>[] = [
    { method: 'GET', path: '/liveness', role: null, handle: () => json(200, { status: 'ok', function: 'query-api' }) },
    {
      method: 'GET', path: '/readiness', role: null,
      handle: async () => {
        const ok = await pool.query('SELECT 1').then(() => true, () => false);
        return json(ok ? 200 : 503, { status: ok ? 'ok' : 'not ready', function: 'query-api' });
      },
    },
    { method: 'GET', path: '/api/me', role: null, handle: (c) => me(c.principal, deps.auth) },
    { method: 'GET', path: '/api/auth/providers', role: null, handle: () => providers(deps.auth) },
    { method: 'GET', path: '/api/auth/login/:provider', role: null, handle: (c) => login(deps.auth, c.params.provider!, c.req) },
    { method: 'GET', path: '/api/auth/handle/:provider', role: null, handle: (c) => handle(deps.auth, c.params.provider!, c.req, deps.fetch ?? fetch) },
    // POST only, with the CSRF rule of every mutation: neither a link nor a cross-site form signs anyone out.
    { method: 'POST', path: '/api/auth/logout', role: null, handle: (c) => (checkCsrf(c.principal, c.req), logout(deps.auth)) },
    { method: 'POST', path: '/api/auth/client/login', role: null, handle: (c) => clientLogin(deps.auth, c.req) },

    {
      method: 'GET', path: '/api/pipelines', role: 'viewer',
      handle: async (c) => {
        const page = await listPipelines(pool, pipelineFilter(c.req.query));
        return json(200, { ...page, items: await withLastBuildDetails(await withActiveReleases(pool, page.items)) });
      },
    },
    {
      method: 'GET', path: PL, role: 'viewer',
      handle: async (c) => {
        const [pl] = await withLastBuildDetails(await withActiveReleases(pool, [await pipelineOf(c)]));
        return json(200, { ...pl, triggers: await describeTriggers(pool, await listTriggers(pool, pl!.id)) });
      },
    },
    { method: 'GET', path: `${PL}/builds`, role: 'viewer', handle: async (c) => json(200, await buildPage(await listBuilds(pool, { ...buildFilter(c.req.query), pipelineId: (await pipelineOf(c)).id }))) },
    { method: 'POST', path: `${PL}/builds`, role: 'operator', handle: rebuild },
    { method: 'GET', path: `${PL}/recentbuilds`, role: 'viewer', handle: async (c) => json(200, await buildPage({ items: await latestBuildPerBranch(pool, (await pipelineOf(c)).id) })) },
    { method: 'GET', path: `${PL}/builds/:id`, role: 'viewer', handle: async (c) => json(200, (await withEstimates([await buildOf(c, { withManifest: true })], (b) => b.pipelineId))[0]) },
    { method: 'POST', path: `${PL}/builds/:id/rerun-failed`, role: 'operator', handle: rerunFailed },
    { method: 'DELETE', path: `${PL}/builds/:id`, role: 'operator', handle: (c) => cancel(c, 'build') },
    { method: 'GET', path: `${PL}/builds/:id/stages`, role: 'viewer', handle: stages('build') },
    { method: 'GET', path: `${PL}/builds/:id/logs`, role: 'viewer', handle: logs('build') },
    { method: 'GET', path: `${PL}/builds/:id/logs.stream`, role: 'viewer', handle: stream('build') },
    { method: 'GET', path: `${PL}/builds/:id/logs.txt`, role: 'viewer', handle: text('build') },
    { method: 'GET', path: `${PL}/releases`, role: 'viewer', handle: async (c) => json(200, await listReleases(pool, { ...releaseFilter(c.req.query), pipelineId: (await pipelineOf(c)).id })) },
    { method: 'POST', path: `${PL}/releases`, role: 'operator', handle: release },
    { method: 'GET', path: `${PL}/releases/:id`, role: 'viewer', handle: async (c) => json(200, await releaseOf(c)) },
    { method: 'DELETE', path: `${PL}/releases/:id`, role: 'operator', handle: (c) => cancel(c, 'release') },
    { method: 'GET', path: `${PL}/releases/:id/stages`, role: 'viewer', handle: stages('release') },
    { method: 'GET', path: `${PL}/releases/:id/logs`, role: 'viewer', handle: logs('release') },
    { method: 'GET', path: `${PL}/releases/:id/logs.stream`, role: 'viewer', handle: stream('release') },
    { method: 'GET', path: `${PL}/releases/:id/logs.txt`, role: 'viewer', handle: text('release') },
    ...approvalRoutes(PL, { pool, publish: deps.publish, auth: deps.auth, releaseOf }),
    ...botRoutes(PL, { pool, liveLogs: deps.liveLogs, publish: deps.publish, pipelineOf, ...(deps.pingMs ? { pingMs: deps.pingMs } : {}) }),
    {
      method: 'GET', path: `${PL}/stats/buildsdurations`, role: 'viewer',
      handle: async (c) => json(200, { items: await buildDurations(pool, (await pipelineOf(c)).id, p.intParam(c.req.query, 'last', 50, 1, 1000)!) }),
    },
    {
      method: 'GET', path: `${PL}/stats/buildssuccessrate`, role: 'viewer',
      handle: async (c) => json(200, await buildSuccessRate(pool, (await pipelineOf(c)).id, p.since(c.req.query))),
    },
    { method: 'GET', path: `${PL}/stats/releases`, role: 'viewer', handle: async (c) => json(200, { items: await releaseStats(pool, (await pipelineOf(c)).id, p.since(c.req.query)) }) },

    { method: 'GET', path: '/api/builds', role: 'viewer', handle: async (c) => json(200, await buildPage(await listBuilds(pool, buildFilter(c.req.query)))) },
    { method: 'GET', path: '/api/releases', role: 'viewer', handle: async (c) => json(200, await listReleases(pool, releaseFilter(c.req.query))) },
    { method: 'GET', path: '/api/stats/pipelinescount', role: 'viewer', handle: async (c) => json(200, { count: await countPipelines(pool, pipelineFilter(c.req.query)) }) },
    { method: 'GET', path: '/api/stats/buildscount', role: 'viewer', handle: async (c) => json(200, { count: await countBuilds(pool, buildFilter(c.req.query)) }) },
    { method: 'GET', path: '/api/stats/releasescount', role: 'viewer', handle: async (c) => json(200, { count: await countReleases(pool, releaseFilter(c.req.query)) }) },

    {
      method: 'POST', path: '/api/manifest/validate', role: 'viewer',
      handle: (c) => {
        const loaded = loadManifest(p.field(p.jsonBody(c.req), 'manifest', 1024 * 1024));
        const problems = (list: typeof loaded.errors) => list.map(({ field, message }) => ({ field, message }));
        return json(200, { status: loaded.errors.length ? 'failed' : 'succeeded', errors: problems(loaded.errors), warnings: problems(loaded.warnings) });
      },
    },
    { method: 'POST', path: '/api/manifest/encrypt', role: 'viewer', handle: encrypt },
  ];
  const router = new Router(routes);
  const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

  return async (req: HttpRequest) => {
    p.refuseNul(req.path, req.query);
    const matched = router.match(req.method, req.path);
    if (!matched) {
      if (deps.staticDir && (req.method === 'GET' || req.method === 'HEAD') && !req.path.startsWith('/api/') && req.path !== '/api') {
        const file = await serveStatic(deps.staticDir, req.path, req.headers['if-none-match']);
        if (file) return file;
      }
      throw new HttpError(404, `no route ${req.method} ${req.path}`);
    }
    const principal = await authenticate(req, deps.auth);
    const { route, params } = matched;
    if (route.role) {
      const mutating = (route.mutating ?? route.role !== 'viewer') && MUTATING.has(req.method);
      authorize(principal, req, route.role, mutating);
      // Without sign-in there is no cookie to ride on, but a cross-site form could still POST to a
      // local server: a JSON content type forces a CORS preflight, which this API never grants.
      if (mutating && principal.via === 'local' && req.method === 'POST' && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        throw new HttpError(415, 'send the body as application/json');
      }
    }
    return route.handle({ req, params, principal });
  };
}
