/**
 * Builds across every pipeline, newest first (`/api/builds`), filtered by status, branch and age
 * in the URL, refreshed while open; running rows show how long they have run and have left.
 */
import { query } from '../api/client.ts';
import type { Build, List } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { Empty, ErrorBox, Loading } from '../components/feedback.tsx';
import { ListFilters, useListQuery } from '../components/list-filters.tsx';
import { BUILD_STATUSES, BuildsTable, Pager } from '../components/run-tables.tsx';

const REFRESH_MS = 5_000;

/** The cross-pipeline builds page. */
export function BuildsPage() {
  const f = useListQuery(['status', 'branch', 'since']);
  const res = useResource<List<Build>>(
    `/api/builds${query([
      ['filter[status]', f.values.status],
      ['filter[branch]', f.values.branch],
      ['filter[since]', f.values.since],
      ['page[number]', f.page > 1 ? f.page : undefined],
      ['page[size]', 25],
    ])}`,
    REFRESH_MS,
  );
  return (
    <section>
      <div class="page-head">
        <h1>Builds</h1>
      </div>
      <ListFilters f={f} statuses={BUILD_STATUSES} text={{ name: 'branch', label: 'Branch', placeholder: 'e.g. main' }} />
      {res.error ? <ErrorBox error={res.error} retry={res.reload} context="Could not load the builds" /> : null}
      {!res.data && res.loading ? <Loading what="builds" /> : null}
      {res.data && !res.data.items.length ? <Empty title={f.filtered ? 'No build matches these filters.' : 'No builds yet.'} /> : null}
      {res.data?.items.length ? <BuildsTable builds={res.data.items} withPipeline /> : null}
      <Pager pagination={res.data?.pagination} page={f.page} setPage={f.setPage} />
    </section>
  );
}
