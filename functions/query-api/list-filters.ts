/**
 * The list filters of query-api: which query parameters each list (and its counter) takes, and
 * how they become the typed filters of the query modules. The vocabulary is Estafette's —
 * `filter[status|since|labels|search|target|branch|recent-committer|recent-releaser]`,
 * `page[number|size]` and its snake_case `sort` fields — plus our own `filter[archived]`,
 * `filter[eventId]` and the sort aliases `-lastBuild` and `name`. A route declares the names
 * it takes (router `query`); any other is a 400 before the route runs.
 */
import type { SortField } from '../../shared/db/page.ts';
import type { BuildFilter } from '../../shared/db/builds.ts';
import type { PipelineFilter } from '../../shared/db/pipelines.ts';
import type { ReleaseFilter } from '../../shared/db/releases.ts';
import * as p from './params.ts';

const PAGING = ['page[number]', 'page[size]'] as const;

/** Query parameters of `/api/pipelines` and `/api/stats/pipelinescount`. */
export const PIPELINE_QUERY = [
  ...PAGING,
  'filter[status]',
  'filter[since]',
  'filter[labels]',
  'filter[search]',
  'filter[archived]',
  'filter[target]',
  'filter[recent-committer]',
  'filter[recent-releaser]',
  'sort',
] as const;
/** Query parameters of the build lists and `/api/stats/buildscount`. */
export const BUILD_QUERY = [...PAGING, 'filter[status]', 'filter[since]', 'filter[branch]', 'filter[eventId]', 'filter[labels]', 'sort'] as const;
/** Query parameters of the release lists and `/api/stats/releasescount`. */
export const RELEASE_QUERY = [...PAGING, 'filter[status]', 'filter[since]', 'filter[target]', 'sort'] as const;

const desc = (column: string): SortField => ({ column, descending: true });
const asc = (column: string): SortField => ({ column, descending: false });
const REPO = { repo_source: 'repo_source', repo_owner: 'repo_owner', repo_name: 'repo_name' };

/** Sort fields of the pipelines list: Estafette's names, and our `-lastBuild` (default) and `name`. */
export const PIPELINE_SORT: Record<string, string | SortField[]> = {
  ...REPO,
  last_updated_at: 'last_activity_at',
  inserted_at: 'inserted_at',
  updated_at: 'updated_at',
  '-lastBuild': [desc('last_activity_at')],
  name: [asc('repo_name'), asc('repo_owner'), asc('repo_source')],
};
/** Sort fields of build lists (default newest first). */
export const BUILD_SORT: Record<string, string> = {
  ...REPO,
  inserted_at: 'inserted_at',
  updated_at: 'updated_at',
  started_at: 'started_at',
  repo_branch: 'branch',
  build_version: 'version',
  build_status: 'status',
};
/** Sort fields of release lists (default newest first). */
export const RELEASE_SORT: Record<string, string> = {
  ...REPO,
  inserted_at: 'inserted_at',
  updated_at: 'updated_at',
  started_at: 'started_at',
  name: 'name',
  action: 'action',
  release_version: 'version',
  release_status: 'status',
};

/** The pipelines filter of a query. */
export function pipelineFilter(q: URLSearchParams): PipelineFilter {
  return {
    ...p.paging(q),
    statuses: p.statuses(q),
    since: p.since(q),
    labels: p.labels(q),
    search: p.text(q, 'filter[search]'),
    archived: p.bool(q, 'filter[archived]'),
    releaseTarget: p.filterText(q, 'filter[target]'),
    recentCommitter: p.text(q, 'filter[recent-committer]', 320),
    recentReleaser: p.text(q, 'filter[recent-releaser]', 320),
    order: p.sortOrder(q, PIPELINE_SORT),
  };
}

/** The builds filter of a query. */
export function buildFilter(q: URLSearchParams): BuildFilter {
  return {
    ...p.paging(q),
    statuses: p.statuses(q),
    since: p.since(q),
    branch: p.filterText(q, 'filter[branch]', 500),
    eventId: p.text(q, 'filter[eventId]', 100),
    labels: p.labels(q),
    order: p.sortOrder(q, BUILD_SORT),
  };
}

/** The releases filter of a query. */
export function releaseFilter(q: URLSearchParams): ReleaseFilter {
  return {
    ...p.paging(q),
    statuses: p.statuses(q),
    since: p.since(q),
    target: p.filterText(q, 'filter[target]'),
    order: p.sortOrder(q, RELEASE_SORT),
  };
}
