/**
 * Insights across pipelines: the success rate and last duration of each pipeline on the first
 * page of the pipelines list, linking to each pipeline's own insights tab for charts.
 */
import { useState } from 'preact/hooks';
import { pipelinePath, query } from '../api/client.ts';
import type { List, Pipeline, SuccessRate } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { Empty, ErrorBox, Loading } from '../components/feedback.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { formatDuration, fromNs } from '../format.ts';
import { RateBar } from '../insights/pipeline-insights.tsx';
import { pipelineUrl } from '../router.ts';

/** The insights overview page. */
export function InsightsPage() {
  const [since, setSince] = useState('1w');
  const pipelines = useResource<List<Pipeline>>(`/api/pipelines${query([['page[size]', 50]])}`);
  return (
    <section>
      <div class="page-head">
        <h1>Insights</h1>
        <label class="inline">
          Period{' '}
          <select value={since} onChange={(e) => setSince(e.currentTarget.value)}>
            <option value="1d">last day</option>
            <option value="1w">last week</option>
            <option value="1m">last month</option>
            <option value="1y">last year</option>
          </select>
        </label>
      </div>
      {pipelines.error ? <ErrorBox error={pipelines.error} retry={pipelines.reload} context="Could not load the pipelines" /> : null}
      {pipelines.loading && !pipelines.data ? <Loading what="pipelines" /> : null}
      {pipelines.data && pipelines.data.items.length === 0 ? (
        <Empty title="Nothing to measure yet.">
          <p>
            Insights appear once pipelines have builds: push to a repository with a <code>.estafette.yaml</code> or run <code>npx estafette trigger</code>.
          </p>
        </Empty>
      ) : null}
      {pipelines.data?.items.length ? (
        <table class="list insights-table">
          <thead>
            <tr>
              <th scope="col">Pipeline</th>
              <th scope="col">Last build</th>
              <th scope="col">Last duration</th>
              <th scope="col">Success rate</th>
            </tr>
          </thead>
          <tbody>
            {pipelines.data.items.map((p) => (
              <tr key={p.id}>
                <td data-label="Pipeline">
                  <a href={pipelineUrl(p, 'insights')}>
                    {p.repoOwner}/{p.repoName}
                  </a>
                </td>
                <td data-label="Last build">{p.lastBuild ? <StatusBadge status={p.lastBuild.buildStatus} /> : '—'}</td>
                <td data-label="Last duration">{formatDuration(fromNs(p.lastBuild?.duration)) || '—'}</td>
                <td data-label="Success rate">
                  <Rate pipeline={p} since={since} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function Rate({ pipeline, since }: { pipeline: Pipeline; since: string }) {
  const res = useResource<SuccessRate>(`${pipelinePath(pipeline)}/stats/buildssuccessrate${query([['filter[since]', since]])}`);
  if (res.error) return <span class="muted">unavailable ({res.error.message})</span>;
  if (!res.data) return <span class="muted">…</span>;
  return <RateBar rate={res.data} />;
}
