/**
 * Releases across every pipeline, newest first (`/api/releases`), filtered by status, target
 * and age in the URL, refreshed while open.
 */
import { query } from '../api/client.ts';
import type { List, Release } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { Empty, ErrorBox, Loading } from '../components/feedback.tsx';
import { ListFilters, useListQuery } from '../components/list-filters.tsx';
import { BUILD_STATUSES, Pager, ReleasesTable } from '../components/run-tables.tsx';

const REFRESH_MS = 5_000;

/** The cross-pipeline releases page. */
export function ReleasesPage() {
  const f = useListQuery(['status', 'target', 'since']);
  const res = useResource<List<Release>>(
    `/api/releases${query([
      ['filter[status]', f.values.status],
      ['filter[target]', f.values.target],
      ['filter[since]', f.values.since],
      ['page[number]', f.page > 1 ? f.page : undefined],
      ['page[size]', 25],
    ])}`,
    REFRESH_MS,
  );
  return (
    <section>
      <div class="page-head">
        <h1>Releases</h1>
      </div>
      <ListFilters f={f} statuses={BUILD_STATUSES} text={{ name: 'target', label: 'Target', placeholder: 'e.g. production' }} />
      {res.error ? <ErrorBox error={res.error} retry={res.reload} context="Could not load the releases" /> : null}
      {!res.data && res.loading ? <Loading what="releases" /> : null}
      {res.data && !res.data.items.length ? <Empty title={f.filtered ? 'No release matches these filters.' : 'No releases yet.'} /> : null}
      {res.data?.items.length ? <ReleasesTable releases={res.data.items} withPipeline /> : null}
      <Pager pagination={res.data?.pagination} page={f.page} setPage={f.setPage} />
    </section>
  );
}
