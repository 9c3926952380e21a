/**
 * What build list rows show besides version and status: the commit (first line of its message
 * and its author), what triggered the build, and for a running build how long it has run and,
 * from its pipeline's recent durations, how long it probably still takes — ticking each second.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Build, Commit } from '../api/types.ts';
import { elapsedSeconds, formatDuration, fromNs } from '../format.ts';
import { triggerText } from '../words.ts';

/** The first line of the build's (first) commit message and its author, or nothing. */
export function CommitCell({ commits }: { commits: readonly Commit[] | undefined }) {
  const c = commits?.[0];
  if (!c) return <span class="muted">—</span>;
  const first = c.message.split('\n')[0] ?? '';
  return (
    <span class="commit" title={c.message}>
      <span class="commit-message">{first}</span>
      {c.author?.name ? <span class="muted commit-author"> · {c.author.name}</span> : null}
    </span>
  );
}

/** What started the build. */
export const TriggerCell = ({ build }: { build: Pick<Build, 'trigger'> }) => <span class="trigger">{triggerText(build.trigger)}</span>;

/** Re-renders every `ms` while `on`. */
function useTick(on: boolean, ms = 1000): void {
  const [, setN] = useState(0);
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setN((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [on, ms]);
}

/** `2m 05s` for a finished build; `running 1m 05s · about 2m left` (or `longer than usual`) for one still going. */
export function DurationCell({ build }: { build: Pick<Build, 'buildStatus' | 'duration' | 'startedAt' | 'insertedAt' | 'estimatedDuration'> }) {
  const active = build.buildStatus === 'running' || build.buildStatus === 'pending' || build.buildStatus === 'canceling';
  useTick(active);
  if (!active) return <>{formatDuration(fromNs(build.duration))}</>;
  if (build.buildStatus === 'pending') return <span class="muted">waiting to start</span>;
  const elapsed = elapsedSeconds(build.startedAt ?? build.insertedAt) ?? 0;
  const typical = fromNs(build.estimatedDuration);
  const left = typical === undefined ? undefined : typical - elapsed;
  return (
    <span class="elapsed">
      <span data-elapsed>{formatDuration(elapsed)}</span>
      {left === undefined ? null : left > 0 ? (
        <span class="muted" data-left title={`recent builds took ${formatDuration(typical)}`}>
          {' '}
          · about {formatDuration(Math.max(1, left))} left
        </span>
      ) : (
        <span class="muted" data-left title={`recent builds took ${formatDuration(typical)}`}>
          {' '}
          · longer than usual ({formatDuration(typical)})
        </span>
      )}
    </span>
  );
}
