/**
 * A pipeline's insights: build duration over time (chart with a duration axis from 0 whose
 * ticks are exact, readable durations at every scale), success rate over a period, and per
 * release target — counting only the releases of that period — the deployment frequency and
 * the median lead time from build to release.
 */
import { useMemo, useState } from 'preact/hooks';
import { pipelinePath, query } from '../api/client.ts';
import type { DurationPoint, ReleaseStat, SuccessRate } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { Empty, ErrorBox, Loading } from '../components/feedback.tsx';
import { formatAge, formatDuration, fromNs } from '../format.ts';
import { Chart } from './chart.tsx';
import { durationRange, durationTicks } from './duration-axis.ts';

/** A duration tick label: `0`, `500ms`, `30s`, `2m`, `1m 30s`, `2h`. */
export const axisDuration = (s: number): string => (s === 0 ? '0' : formatDuration(s).replace(/ 00[sm]$/, ''));

type Ref = { repoSource: string; repoOwner: string; repoName: string };

/** Length of each `filter[since]` period in days, for "per week" frequencies. */
export const PERIOD_DAYS: Record<string, number> = { '1d': 1, '1w': 7, '1m': 30, '1y': 365 };
const PERIOD_LABELS: Record<string, string> = { '1d': 'last day', '1w': 'last week', '1m': 'last month', '1y': 'last year' };

/** Insights of one pipeline (the pipeline page's insights tab). */
export function PipelineInsights({ pref }: { pref: Ref }) {
  const base = pipelinePath(pref);
  const [since, setSince] = useState('1m');
  const durations = useResource<{ durations: DurationPoint[] }>(`${base}/stats/buildsdurations?filter[last]=100&filter[status]=all`);
  const rate = useResource<SuccessRate>(`${base}/stats/buildssuccessrate${query([['filter[since]', since]])}`);
  const releases = useResource<{ items: ReleaseStat[] }>(`${base}/stats/releases${query([['filter[since]', since]])}`);

  return (
    <div class="insights">
      <label class="inline">
        Period{' '}
        <select value={since} onChange={(e) => setSince(e.currentTarget.value)}>
          <option value="1d">last day</option>
          <option value="1w">last week</option>
          <option value="1m">last month</option>
          <option value="1y">last year</option>
        </select>
      </label>
      <h2>Build duration</h2>
      {durations.error ? <ErrorBox error={durations.error} retry={durations.reload} context="Could not load build durations" /> : null}
      {durations.loading && !durations.data ? <Loading what="durations" /> : null}
      {durations.data ? <DurationChart points={durations.data.durations} /> : null}
      <h2>Success rate</h2>
      {rate.error ? <ErrorBox error={rate.error} retry={rate.reload} context="Could not load the success rate" /> : null}
      {rate.data ? <RateBar rate={rate.data} /> : rate.loading ? <Loading what="success rate" /> : null}
      <h2>Releases per target, {PERIOD_LABELS[since] ?? since}</h2>
      {releases.error ? <ErrorBox error={releases.error} retry={releases.reload} context="Could not load release stats" /> : null}
      {releases.data && releases.data.items.length === 0 ? <Empty title="No releases in this period." /> : null}
      {releases.data?.items.length ? (
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Target</th>
              <th scope="col">Releases</th>
              <th scope="col">Per week</th>
              <th scope="col">Median lead time</th>
              <th scope="col">Last</th>
            </tr>
          </thead>
          <tbody>
            {releases.data.items.map((r) => (
              <tr key={`${r.name}/${r.action ?? ''}`}>
                <td data-label="Target">
                  {r.name}
                  {r.action ? ` / ${r.action}` : ''}
                </td>
                <td data-label="Releases">{r.count}</td>
                <td data-label="Per week">{((r.count / (PERIOD_DAYS[since] ?? 30)) * 7).toFixed(1)}</td>
                <td data-label="Median lead time">{formatDuration(fromNs(r.medianLeadTime)) || '—'}</td>
                <td data-label="Last">{formatAge(r.lastReleasedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

/** Success rate as a bar with the percentage and counts written out. */
export function RateBar({ rate }: { rate: SuccessRate }) {
  if (!rate.total) return <p class="muted">No finished builds in this period.</p>;
  const pct = Math.round((rate.rate <= 1 ? rate.rate * 100 : rate.rate) * 10) / 10;
  return (
    <div class="rate">
      <div class="rate-bar" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label="Success rate">
        <span style={{ width: `${pct}%` }} />
      </div>
      <span>
        <strong>{pct}%</strong> succeeded ({rate.succeeded} of {rate.total}; {rate.failed} failed)
      </span>
    </div>
  );
}

function DurationChart({ points }: { points: DurationPoint[] }) {
  // Durations come in nanoseconds (Estafette's unit) and are 0 until a build finished.
  const finished = useMemo(
    () =>
      points
        .filter((p) => p.buildStatus === 'succeeded' || p.buildStatus === 'failed' || p.buildStatus === 'canceled')
        .map((p) => ({ ...p, duration: fromNs(p.duration) }))
        .reverse(),
    [points],
  );
  const data = useMemo(
    () =>
      [finished.map((p) => Date.parse(p.insertedAt) / 1000), finished.map((p) => (p.buildStatus === 'succeeded' ? p.duration : null)), finished.map((p) => (p.buildStatus !== 'succeeded' ? p.duration : null))] as [
        number[],
        Array<number | null>,
        Array<number | null>,
      ],
    [finished],
  );
  const options = useMemo(
    () => ({
      height: 220,
      scales: {
        // One build (or several in the same second) would otherwise stretch the time axis over years.
        x: { time: true, range: (_u: unknown, min: number, max: number): [number, number] => (max - min < 60 ? [min - 1800, max + 1800] : [min, max]) },
        y: { range: (_u: unknown, _min: number, max: number) => durationRange(max) },
      },
      axes: [
        {},
        {
          size: 64,
          splits: (_u: unknown, _axis: number, _min: number, max: number) => durationTicks(max),
          values: (_u: unknown, v: number[]) => v.map(axisDuration),
        },
      ],
      series: [{}, { label: 'succeeded', stroke: '#1a7f37', points: { show: true, size: 6 }, width: 1.5, spanGaps: true }, { label: 'failed / canceled', stroke: '#cf222e', points: { show: true, size: 7 }, width: 0 }],
    }),
    [],
  );
  if (!finished.length) return <Empty title="No finished builds yet." />;
  const median = [...finished.map((p) => p.duration!)].sort((a, b) => a - b)[Math.floor(finished.length / 2)]!;
  return (
    <>
      <Chart options={options} data={data} label={`Build duration of the last ${finished.length} builds; median ${formatDuration(median)}`} />
      <p>
        Median over the last {finished.length} builds: <strong>{formatDuration(median)}</strong>
        {median > 300 ? <span class="warn-text"> — over 5 minutes (danger)</span> : median > 120 ? <span class="warn-text"> — over 2 minutes (warning)</span> : null}
      </p>
    </>
  );
}
