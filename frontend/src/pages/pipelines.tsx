/**
 * Pipelines: every pipeline with its last build (number, version, status, branch, commit,
 * trigger, age, duration — time left while running), filtered by status, age, labels and a
 * search text — all kept in the URL so a filtered view can be shared — and refreshed while open.
 */
import { useEffect, useState } from 'preact/hooks';
import { query } from '../api/client.ts';
import type { List, Pipeline } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { Empty, ErrorBox, Loading } from '../components/feedback.tsx';
import { CommitCell, DurationCell, TriggerCell } from '../components/build-cells.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatAge, formatTime } from '../format.ts';
import { navigate, pipelineUrl, useLocation } from '../router.ts';

const STATUSES = ['', 'running', 'succeeded', 'failed', 'canceled', 'pending'];
const SINCE = [
  ['', 'any time'],
  ['1h', 'last hour'],
  ['1d', 'last day'],
  ['1w', 'last week'],
  ['1m', 'last month'],
  ['1y', 'last year'],
] as const;
const REFRESH_MS = 10_000;

/** The pipelines overview. */
export function PipelinesPage() {
  const { query: q } = useLocation();
  const status = q.get('status') ?? '';
  const since = q.get('since') ?? '';
  const labels = q.getAll('label');
  const search = q.get('q') ?? '';
  const page = Number(q.get('page') ?? '1') || 1;

  const path = `/api/pipelines${query([
    ['filter[status]', status],
    ['filter[since]', since],
    ['filter[search]', search],
    ['page[number]', page > 1 ? page : undefined],
    ['page[size]', 20],
  ])}${labels.map((l) => `&filter[labels]=${encodeURIComponent(l)}`).join('')}`;
  const res = useResource<List<Pipeline>>(path, REFRESH_MS);

  const setParam = (changes: Record<string, string | string[] | null>) => {
    const next = new URLSearchParams(q);
    for (const [k, v] of Object.entries(changes)) {
      next.delete(k);
      if (Array.isArray(v)) v.forEach((x) => next.append(k, x));
      else if (v) next.set(k, v);
    }
    if (!('page' in changes)) next.delete('page');
    const s = next.toString();
    navigate(`/${s ? `?${s}` : ''}`, { replace: true });
  };

  const filtered = !!(status || since || labels.length || search);
  const items = res.data?.items ?? [];
  const pg = res.data?.pagination;

  return (
    <section>
      <div class="page-head">
        <h1>Pipelines</h1>
        {res.loading && res.data ? (
          <span class="refreshing" aria-hidden="true">
            refreshing…
          </span>
        ) : null}
      </div>
      <Filters status={status} since={since} labels={labels} search={search} onChange={setParam} />
      {res.error ? <ErrorBox error={res.error} retry={res.reload} context="Could not load the pipelines" /> : null}
      {!res.data && res.loading ? <Loading what="pipelines" /> : null}
      {res.data && items.length === 0 ? (
        filtered ? (
          <Empty title="No pipeline matches these filters.">
            <button type="button" class="link-button" onClick={() => setParam({ status: null, since: null, label: [], q: null })}>
              Clear the filters
            </button>
          </Empty>
        ) : (
          <Empty title="No pipelines yet.">
            <p>
              Push to a repository with a <code>.estafette.yaml</code> whose webhook points here, or run <code>estafette trigger</code> in a local repository that has one.
            </p>
          </Empty>
        )
      ) : null}
      {items.length > 0 ? (
        <table class="list pipelines">
          <thead>
            <tr>
              <th scope="col">Pipeline</th>
              <th scope="col">Status</th>
              <th scope="col">Last build</th>
              <th scope="col">Branch</th>
              <th scope="col">Commit</th>
              <th scope="col">Trigger</th>
              <th scope="col">Age</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id} data-pipeline={`${p.repoSource}/${p.repoOwner}/${p.repoName}`}>
                <td data-label="Pipeline">
                  <a href={pipelineUrl(p)} class="pipeline-name">
                    <span class="owner">{p.repoOwner}/</span>
                    {p.repoName}
                  </a>
                  {p.labels?.length ? (
                    <span class="labels">
                      {p.labels.map(({ key: k, value: v }) => (
                        <button type="button" key={k} class="label" title={`Filter on ${k}=${v}`} onClick={() => setParam({ label: [...new Set([...labels, `${k}=${v}`])] })}>
                          {k}={v}
                        </button>
                      ))}
                    </span>
                  ) : null}
                </td>
                <td data-label="Status">{p.lastBuild ? <StatusBadge status={p.lastBuild.buildStatus} /> : <span class="muted">no builds</span>}</td>
                <td data-label="Last build">
                  {p.lastBuild ? (
                    <>
                      <a href={pipelineUrl(p, `builds/${encodeURIComponent(p.lastBuild.id)}`)}>{p.lastBuild.buildVersion}</a> <span class="muted build-number">#{p.lastBuild.buildNumber}</span>
                    </>
                  ) : (
                    ''
                  )}
                </td>
                <td data-label="Branch">{p.lastBuild?.repoBranch}</td>
                <td data-label="Commit">{p.lastBuild ? <CommitCell commits={p.lastBuild.commits} /> : null}</td>
                <td data-label="Trigger">{p.lastBuild ? <TriggerCell build={p.lastBuild} /> : null}</td>
                <td data-label="Age">
                  <time dateTime={p.lastBuild?.insertedAt} title={formatTime(p.lastBuild?.insertedAt)}>
                    {formatAge(p.lastBuild?.insertedAt)}
                  </time>
                </td>
                <td data-label="Duration">{p.lastBuild ? <DurationCell build={p.lastBuild} /> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {pg && pg.totalPages > 1 ? (
        <nav class="pager" aria-label="Pages">
          <button type="button" disabled={page <= 1} onClick={() => setParam({ page: String(page - 1) })}>
            ← Newer
          </button>
          <span>
            page {pg.page} of {pg.totalPages} ({pg.totalItems} pipelines)
          </span>
          <button type="button" disabled={page >= pg.totalPages} onClick={() => setParam({ page: String(page + 1) })}>
            Older →
          </button>
        </nav>
      ) : null}
    </section>
  );
}

function Filters(props: { status: string; since: string; labels: string[]; search: string; onChange: (c: Record<string, string | string[] | null>) => void }) {
  // The search box is edited locally and pushed to the URL after a pause, not on every key.
  const [text, setText] = useState(props.search);
  const [label, setLabel] = useState('');
  useEffect(() => setText(props.search), [props.search]);
  useEffect(() => {
    if (text === props.search) return;
    const t = setTimeout(() => props.onChange({ q: text || null }), 300);
    return () => clearTimeout(t);
  }, [text]);

  return (
    <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
      <label>
        Search
        <input type="search" value={text} placeholder="name or owner" onInput={(e) => setText(e.currentTarget.value)} />
      </label>
      <label>
        Status
        <select value={props.status} onChange={(e) => props.onChange({ status: e.currentTarget.value || null })}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s || 'all'}
            </option>
          ))}
        </select>
      </label>
      <label>
        Since
        <select value={props.since} onChange={(e) => props.onChange({ since: e.currentTarget.value || null })}>
          {SINCE.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      </label>
      <label>
        Label
        <input
          type="text"
          value={label}
          placeholder="key=value, Enter"
          pattern="[^=]+=.*"
          onInput={(e) => setLabel(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && /^[^=]+=/.test(label)) {
              e.preventDefault();
              props.onChange({ label: [...new Set([...props.labels, label.trim()])] });
              setLabel('');
            }
          }}
        />
      </label>
      {props.labels.length ? (
        <ul class="chips" aria-label="Label filters">
          {props.labels.map((l) => (
            <li key={l}>
              {l}{' '}
              <button type="button" aria-label={`Remove label filter ${l}`} onClick={() => props.onChange({ label: props.labels.filter((x) => x !== l) })}>
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </form>
  );
}
