/**
 * The tables of builds and releases that the pipeline page and the cross-pipeline Builds and
 * Releases pages share, and their pager. A build row: number, version, status, branch, commit,
 * trigger, age and duration (running: elapsed and time left); a release row: target, version,
 * status, who, age, duration. `withPipeline` adds the pipeline column.
 */
import type { List, Build, Bot, Release } from '../api/types.ts';
import { triggerText } from '../words.ts';
import { formatAge, formatDuration, formatTime, fromNs, shortRevision } from '../format.ts';
import { pipelineUrl } from '../router.ts';
import { CommitCell, DurationCell, TriggerCell } from './build-cells.tsx';
import { StatusBadge } from './status-badge.tsx';
import { QueueNote } from '../scheduling/queue-note.tsx';

/** The statuses a run list can be filtered on. */
export const BUILD_STATUSES = ['running', 'pending', 'queued', 'succeeded', 'failed', 'canceled'] as const;

/** A table of builds with number, version, status, branch, commit, trigger, age and duration (and the pipeline when `withPipeline`). */
export function BuildsTable({ builds, withPipeline = false }: { builds: Build[]; withPipeline?: boolean }) {
  return (
    <table class="list builds">
      <thead>
        <tr>
          {withPipeline ? <th scope="col">Pipeline</th> : null}
          <th scope="col">#</th>
          <th scope="col">Version</th>
          <th scope="col">Status</th>
          <th scope="col">Branch</th>
          <th scope="col">Commit</th>
          <th scope="col">Trigger</th>
          <th scope="col">Age</th>
          <th scope="col">Duration</th>
        </tr>
      </thead>
      <tbody>
        {builds.map((b) => (
          <tr key={b.id} data-build={b.id} data-status={b.buildStatus}>
            {withPipeline ? (
              <td data-label="Pipeline">
                <a href={pipelineUrl(b)} class="pipeline-name">
                  <span class="owner">{b.repoOwner}/</span>
                  {b.repoName}
                </a>
              </td>
            ) : null}
            <td data-label="#" class="build-number">
              {b.buildNumber}
            </td>
            <td data-label="Version">
              <a href={pipelineUrl(b, `builds/${encodeURIComponent(b.id)}`)}>{b.buildVersion}</a>
            </td>
            <td data-label="Status">
              <StatusBadge status={b.buildStatus} /> <QueueNote run={b} />
            </td>
            <td data-label="Branch">{b.repoBranch}</td>
            <td data-label="Commit">
              <CommitCell commits={b.commits} />{' '}
              <code class="muted" title={b.repoRevision}>
                {shortRevision(b.repoRevision)}
              </code>
            </td>
            <td data-label="Trigger">
              <TriggerCell build={b} />
            </td>
            <td data-label="Age">
              <time dateTime={b.insertedAt} title={formatTime(b.insertedAt)}>
                {formatAge(b.insertedAt)}
              </time>
            </td>
            <td data-label="Duration">
              <DurationCell build={b} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A table of releases (with the pipeline when `withPipeline`). */
export function ReleasesTable({ releases, withPipeline = false }: { releases: Release[]; withPipeline?: boolean }) {
  return (
    <table class="list releases">
      <thead>
        <tr>
          {withPipeline ? <th scope="col">Pipeline</th> : null}
          <th scope="col">Target</th>
          <th scope="col">Version</th>
          <th scope="col">Status</th>
          <th scope="col">By</th>
          <th scope="col">Age</th>
          <th scope="col">Duration</th>
        </tr>
      </thead>
      <tbody>
        {releases.map((r) => (
          <tr key={r.id} data-release={r.id} data-status={r.releaseStatus}>
            {withPipeline ? (
              <td data-label="Pipeline">
                <a href={pipelineUrl(r)} class="pipeline-name">
                  <span class="owner">{r.repoOwner}/</span>
                  {r.repoName}
                </a>
              </td>
            ) : null}
            <td data-label="Target">
              <a href={pipelineUrl(r, `releases/${encodeURIComponent(r.id)}`)}>
                {r.name}
                {r.action ? ` / ${r.action}` : ''}
              </a>
            </td>
            <td data-label="Version">{r.releaseVersion}</td>
            <td data-label="Status">
              <StatusBadge status={r.releaseStatus} /> <QueueNote run={r} />
            </td>
            <td data-label="By">{r.triggeredBy}</td>
            <td data-label="Age">
              <time dateTime={r.insertedAt} title={formatTime(r.insertedAt)}>
                {formatAge(r.insertedAt)}
              </time>
            </td>
            <td data-label="Duration">{formatDuration(fromNs(r.duration))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Bot runs: bot (linked to its run), what fired it, status, branch, age, duration. */
export function BotsTable({ bots }: { bots: Bot[] }) {
  return (
    <table class="list bots">
      <thead>
        <tr>
          <th scope="col">Bot</th>
          <th scope="col">Event</th>
          <th scope="col">Status</th>
          <th scope="col">Branch</th>
          <th scope="col">Age</th>
          <th scope="col">Duration</th>
        </tr>
      </thead>
      <tbody>
        {bots.map((b) => (
          <tr key={b.id} data-bot={b.id} data-status={b.botStatus}>
            <td data-label="Bot">
              <a href={pipelineUrl(b, `bots/${encodeURIComponent(b.id)}`)}>{b.name}</a>
            </td>
            <td data-label="Event">{triggerText(b.trigger)}</td>
            <td data-label="Status">
              <StatusBadge status={b.botStatus} />
              {b.statusReason ? <span class="muted"> {b.statusReason}</span> : null}
            </td>
            <td data-label="Branch">
              {b.repoBranch}
              {b.repoRevision ? <code class="muted"> {shortRevision(b.repoRevision)}</code> : null}
            </td>
            <td data-label="Age">
              <time dateTime={b.insertedAt} title={formatTime(b.insertedAt)}>
                {formatAge(b.insertedAt)}
              </time>
            </td>
            <td data-label="Duration">{formatDuration(fromNs(b.duration))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Newer / older page buttons of a list. */
export function Pager({ pagination, page, setPage }: { pagination: List<unknown>['pagination']; page: number; setPage: (n: number) => void }) {
  if (!pagination || pagination.totalPages <= 1) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
        ← Newer
      </button>
      <span>
        page {pagination.page} of {pagination.totalPages}
      </span>
      <button type="button" disabled={page >= pagination.totalPages} onClick={() => setPage(page + 1)}>
        Older →
      </button>
    </nav>
  );
}
