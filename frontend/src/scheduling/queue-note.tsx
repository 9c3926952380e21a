/**
 * What the scheduler says about a build or release, next to its status: its place in the queue
 * while `queued` ("2nd in queue"), and the reason the system gave it its status ("superseded by
 * build #7 (abc1234)", "rejected by …", "approval expired …"). Renders nothing otherwise, so it
 * can sit beside every StatusBadge of a run.
 */
import type { Build, Release } from '../api/types.ts';

const ordinal = (n: number): string => {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
};

/** The queue position of a run in words ("next in queue", "3rd in queue"), or ''. */
export function queueText(position: number | undefined): string {
  if (!position) return '';
  return position === 1 ? 'next in queue' : `${ordinal(position)} in queue`;
}

/** `<QueueNote run={build} />` — position and status reason of a run, inline and small. */
export function QueueNote({ run }: { run: Pick<Build, 'queuePosition' | 'statusReason'> | Pick<Release, 'queuePosition' | 'statusReason'> }) {
  const position = queueText(run.queuePosition);
  if (!position && !run.statusReason) return null;
  return (
    <span class="queue-note muted">
      {position ? (
        <span class="queue-position" data-queue-position={run.queuePosition}>
          {position}
        </span>
      ) : null}
      {run.statusReason ? <span class="status-reason">{run.statusReason}</span> : null}
    </span>
  );
}

/**
 * Facts for a run's header: queue position and status reason as `<dt>/<dd>` pairs. `status` is
 * the live status when the page knows a newer one than `run` (a queued run that started since).
 */
export function ScheduleFacts({ run, status }: { run: Pick<Build, 'queuePosition' | 'statusReason'> | Pick<Release, 'queuePosition' | 'statusReason'>; status?: string }) {
  const queued = status === undefined || status === 'queued';
  return (
    <>
      {run.queuePosition && queued ? (
        <div class="fact">
          <dt>Queue</dt>
          <dd class="queue-position" data-queue-position={run.queuePosition}>
            {queueText(run.queuePosition)} (position {run.queuePosition})
          </dd>
        </div>
      ) : null}
      {run.statusReason ? (
        <div class="fact">
          <dt>Why</dt>
          <dd class="status-reason">{run.statusReason}</dd>
        </div>
      ) : null}
    </>
  );
}
