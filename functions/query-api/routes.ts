/**
 * The route table of query-api (docs/API.md): every route with the role it needs and the query
 * parameters it takes. The handlers live with their concern — sign-in (sign-in.ts), the objects
 * a path names (lookups.ts), lists and their filters (list-filters.ts), job logs (job-logs.ts),
 * actions (job-actions.ts), approvals, manifest tools — and this table only wires them.
 */
import { checkCsrf, type Principal } from '../../shared/auth/access.ts';
import { buildDurations, buildSuccessRate, countBuilds, findBuildsByVersion, latestBuildPerBranch, listBuilds } from '../../shared/db/builds.ts';
import { NotFoundError } from '../../shared/db/errors.ts';
import { countPipelines, listPipelines, withActiveReleases } from '../../shared/db/pipelines.ts';
import { countReleases, listReleases, releaseDurations, releaseStats, type Release } from '../../shared/db/releases.ts';
import { listTriggers } from '../../shared/db/triggers.ts';
import { json } from '../../shared/http/types.ts';
import { approvalRoutes } from './approval-routes.ts';
import { botRoutes } from './bot-routes.ts';
import { buildSummaries } from './build-summaries.ts';
import type { QueryApiDeps } from './handler.ts';
import { jobActions } from './job-actions.ts';
import { jobLogs, LOG_QUERY } from './job-logs.ts';
import { BUILD_QUERY, buildFilter, PIPELINE_QUERY, pipelineFilter, RELEASE_QUERY, releaseFilter } from './list-filters.ts';
import { lookups } from './lookups.ts';
import { manifestEncrypt, validateManifest } from './manifest-routes.ts';
import * as p from './params.ts';
import type { Route } from './router.ts';
import { clientLogin, handle, login, logout, me, providers } from './sign-in.ts';
import { describeTriggers } from './trigger-descriptions.ts';
import { ns, releaseJson, triggerJson } from './estafette-shapes.ts';

/** Query parameters of the duration charts. */
const STATS_QUERY = ['filter[last]', 'filter[status]'] as const;
/** `filter[last]`: how many runs (default 100, as Estafette). */
const lastRuns = (q: URLSearchParams) => p.intParam(q, 'filter[last]', 100, 1, 1000)!;
/** `filter[status]` of the duration charts: succeeded unless given (`all`: every status). */
const statsStatuses = (q: URLSearchParams) => (q.has('filter[status]') ? p.statuses(q) : ['succeeded' as const]);

/** Every route of query-api. */
export function queryApiRoutes(deps: QueryApiDeps): Route<Principal>[] {
  const { pool } = deps;
  const find = lookups(pool);
  const jobLog = jobLogs(deps, find);
  const actions = jobActions(deps, find);
  const { buildPage, buildOne, withLastBuildDetails } = buildSummaries(pool);
  const releasePage = <P extends { items: Release[] }>(page: P) => ({ ...page, items: page.items.map(releaseJson) });

  const PL = '/api/pipelines/:source/:owner/:repo';
  return [
    { method: 'GET', path: '/liveness', role: null, handle: () => json(200, { status: 'ok', function: 'query-api' }) },
    {
      method: 'GET',
      path: '/readiness',
      role: null,
      handle: async () => {
        const ok = await pool.query('SELECT 1').then(
          () => true,
          () => false,
        );
        return json(ok ? 200 : 503, { status: ok ? 'ok' : 'not ready', function: 'query-api' });
      },
    },
    { method: 'GET', path: '/api/me', role: null, handle: (c) => me(c.principal, deps.auth) },
    { method: 'GET', path: '/api/auth/providers', role: null, handle: () => providers(deps.auth) },
    { method: 'GET', path: '/api/auth/login/:provider', query: ['returnURL', 'organization'], role: null, handle: (c) => login(deps.auth, c.params.provider!, c.req) },
    { method: 'GET', path: '/api/auth/handle/:provider', query: ['code', 'state', 'error', 'error_description'], role: null, handle: (c) => handle(deps.auth, c.params.provider!, c.req, deps.fetch ?? fetch) },
    // POST only, with the CSRF rule of every mutation: neither a link nor a cross-site form signs anyone out.
    { method: 'POST', path: '/api/auth/logout', role: null, handle: (c) => (checkCsrf(c.principal, c.req), logout(deps.auth)) },
    { method: 'POST', path: '/api/auth/client/login', role: null, handle: (c) => clientLogin(deps.auth, c.req) },

    {
      method: 'GET',
      path: '/api/pipelines',
      query: PIPELINE_QUERY,
      role: 'viewer',
      handle: async (c) => {
        const page = await listPipelines(pool, pipelineFilter(c.req.query));
        return json(200, { ...page, items: await withLastBuildDetails(await withActiveReleases(pool, page.items)) });
      },
    },
    {
      method: 'GET',
      path: PL,
      role: 'viewer',
      handle: async (c) => {
        const [pl] = await withLastBuildDetails(await withActiveReleases(pool, [await find.pipelineOf(c)]));
        return json(200, { ...pl, triggers: (await describeTriggers(pool, await listTriggers(pool, pl!.id))).map(triggerJson) });
      },
    },
    {
      method: 'GET',
      path: `${PL}/builds`,
      query: BUILD_QUERY,
      role: 'viewer',
      handle: async (c) => json(200, await buildPage(await listBuilds(pool, { ...buildFilter(c.req.query), pipelineId: (await find.pipelineOf(c)).id }))),
    },
    { method: 'POST', path: `${PL}/builds`, role: 'operator', handle: actions.rebuild },
    { method: 'GET', path: `${PL}/recentbuilds`, role: 'viewer', handle: async (c) => json(200, await buildPage({ items: await latestBuildPerBranch(pool, (await find.pipelineOf(c)).id) })) },
    { method: 'GET', path: `${PL}/builds/:id`, role: 'viewer', handle: async (c) => json(200, await buildOne(await find.buildOf(c, { withManifest: true }))) },
    {
      // Estafette's GetPipelineBuildByVersion (its UI links a release's version to the build): the newest build of that version.
      method: 'GET',
      path: `${PL}/builds/version/:version`,
      role: 'viewer',
      handle: async (c) => {
        const pl = await find.pipelineOf(c);
        const b = (await findBuildsByVersion(pool, pl.id, c.params.version!))[0];
        if (!b) throw new NotFoundError(`version ${c.params.version!.slice(0, 100)} of ${pl.repoOwner}/${pl.repoName}`);
        return json(200, await buildOne(b));
      },
    },
    { method: 'POST', path: `${PL}/builds/:id/rerun-failed`, role: 'operator', handle: actions.rerunFailed },
    { method: 'DELETE', path: `${PL}/builds/:id`, role: 'operator', handle: (c) => actions.cancel(c, 'build') },
    { method: 'GET', path: `${PL}/builds/:id/stages`, role: 'viewer', handle: jobLog.stages('build') },
    { method: 'GET', path: `${PL}/builds/:id/logs`, role: 'viewer', handle: jobLog.steps('build') },
    { method: 'GET', path: `${PL}/builds/:id/alllogs`, query: LOG_QUERY.pages, role: 'viewer', handle: jobLog.allLogs('build') },
    { method: 'GET', path: `${PL}/builds/:id/logsbyid/:logId`, role: 'viewer', handle: jobLog.logById('build') },
    { method: 'GET', path: `${PL}/builds/:id/loglines`, query: LOG_QUERY.lines, role: 'viewer', handle: jobLog.logs('build') },
    { method: 'GET', path: `${PL}/builds/:id/logs.stream`, query: LOG_QUERY.stream, role: 'viewer', handle: jobLog.stream('build') },
    { method: 'GET', path: `${PL}/builds/:id/logs.txt`, query: LOG_QUERY.text, role: 'viewer', handle: jobLog.text('build') },
    {
      method: 'GET',
      path: `${PL}/releases`,
      query: RELEASE_QUERY,
      role: 'viewer',
      handle: async (c) => json(200, releasePage(await listReleases(pool, { ...releaseFilter(c.req.query), pipelineId: (await find.pipelineOf(c)).id }))),
    },
    { method: 'POST', path: `${PL}/releases`, role: 'operator', handle: actions.release },
    { method: 'GET', path: `${PL}/releases/:id`, role: 'viewer', handle: async (c) => json(200, releaseJson(await find.releaseOf(c))) },
    { method: 'DELETE', path: `${PL}/releases/:id`, role: 'operator', handle: (c) => actions.cancel(c, 'release') },
    { method: 'GET', path: `${PL}/releases/:id/stages`, role: 'viewer', handle: jobLog.stages('release') },
    { method: 'GET', path: `${PL}/releases/:id/logs`, role: 'viewer', handle: jobLog.steps('release') },
    { method: 'GET', path: `${PL}/releases/:id/alllogs`, query: LOG_QUERY.pages, role: 'viewer', handle: jobLog.allLogs('release') },
    { method: 'GET', path: `${PL}/releases/:id/logsbyid/:logId`, role: 'viewer', handle: jobLog.logById('release') },
    { method: 'GET', path: `${PL}/releases/:id/loglines`, query: LOG_QUERY.lines, role: 'viewer', handle: jobLog.logs('release') },
    { method: 'GET', path: `${PL}/releases/:id/logs.stream`, query: LOG_QUERY.stream, role: 'viewer', handle: jobLog.stream('release') },
    { method: 'GET', path: `${PL}/releases/:id/logs.txt`, query: LOG_QUERY.text, role: 'viewer', handle: jobLog.text('release') },
    ...approvalRoutes(PL, { pool, publish: deps.publish, auth: deps.auth, releaseOf: find.releaseOf }),
    ...botRoutes(PL, { pool, liveLogs: deps.liveLogs, publish: deps.publish, pipelineOf: find.pipelineOf, ...(deps.pingMs ? { pingMs: deps.pingMs } : {}) }),
    // Estafette's duration charts: `{durations}` in nanoseconds, the last `filter[last]` (100) runs of `filter[status]` (succeeded; `all` for every run).
    {
      method: 'GET',
      path: `${PL}/stats/buildsdurations`,
      query: STATS_QUERY,
      role: 'viewer',
      handle: async (c) => {
        const items = await buildDurations(pool, (await find.pipelineOf(c)).id, lastRuns(c.req.query), statsStatuses(c.req.query));
        return json(200, { durations: items.map((d) => ({ ...d, pendingDuration: ns(d.pendingDuration), duration: ns(d.duration) })) });
      },
    },
    {
      method: 'GET',
      path: `${PL}/stats/releasesdurations`,
      query: STATS_QUERY,
      role: 'viewer',
      handle: async (c) => {
        const items = await releaseDurations(pool, (await find.pipelineOf(c)).id, lastRuns(c.req.query), statsStatuses(c.req.query));
        return json(200, { durations: items.map((d) => ({ ...d, pendingDuration: ns(d.pendingDuration), duration: ns(d.duration) })) });
      },
    },
    {
      method: 'GET',
      path: `${PL}/stats/buildssuccessrate`,
      query: ['filter[since]'],
      role: 'viewer',
      handle: async (c) => json(200, await buildSuccessRate(pool, (await find.pipelineOf(c)).id, p.since(c.req.query))),
    },
    {
      method: 'GET',
      path: `${PL}/stats/releases`,
      query: ['filter[since]'],
      role: 'viewer',
      handle: async (c) =>
        json(200, {
          items: (await releaseStats(pool, (await find.pipelineOf(c)).id, p.since(c.req.query))).map(({ medianLeadTimeSeconds, ...s }) => ({
            ...s,
            medianLeadTime: medianLeadTimeSeconds === null ? null : ns(medianLeadTimeSeconds),
          })),
        }),
    },

    { method: 'GET', path: '/api/builds', query: BUILD_QUERY, role: 'viewer', handle: async (c) => json(200, await buildPage(await listBuilds(pool, buildFilter(c.req.query)))) },
    { method: 'GET', path: '/api/releases', query: RELEASE_QUERY, role: 'viewer', handle: async (c) => json(200, releasePage(await listReleases(pool, releaseFilter(c.req.query)))) },
    { method: 'GET', path: '/api/stats/pipelinescount', query: PIPELINE_QUERY, role: 'viewer', handle: async (c) => json(200, { count: await countPipelines(pool, pipelineFilter(c.req.query)) }) },
    { method: 'GET', path: '/api/stats/buildscount', query: BUILD_QUERY, role: 'viewer', handle: async (c) => json(200, { count: await countBuilds(pool, buildFilter(c.req.query)) }) },
    { method: 'GET', path: '/api/stats/releasescount', query: RELEASE_QUERY, role: 'viewer', handle: async (c) => json(200, { count: await countReleases(pool, releaseFilter(c.req.query)) }) },

    { method: 'POST', path: '/api/manifest/validate', role: 'viewer', handle: validateManifest },
    { method: 'POST', path: '/api/manifest/encrypt', role: 'viewer', handle: manifestEncrypt(deps.secretKey) },
  ];
}
