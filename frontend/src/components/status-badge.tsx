/**
 * A status shown as icon + word (never colour alone): ✓ succeeded, ✗ failed, ● running …
 * The colour is a third, redundant cue.
 */
import type { AnyStatus } from '../api/types.ts';

const ICONS: Record<AnyStatus, string> = {
  succeeded: '✓',
  failed: '✗',
  running: '●',
  pending: '○',
  canceling: '⊘',
  canceled: '⊘',
  skipped: '↷',
  queued: '◔',
  'awaiting-approval': '✋',
};

/** `<StatusBadge status="failed" />` → a pill reading "✗ failed". `compact` hides the word visually but keeps it for screen readers. */
export function StatusBadge({ status, compact = false }: { status: AnyStatus | string | null | undefined; compact?: boolean }) {
  const s = (status ?? 'pending') as AnyStatus;
  return (
    <span class={`status status-${s}${compact ? ' compact' : ''}`} data-status={s} title={compact ? s : undefined}>
      <span class="status-icon" aria-hidden="true">
        {ICONS[s] ?? '?'}
      </span>
      <span class={compact ? 'visually-hidden' : 'status-text'}>{s}</span>
    </span>
  );
}
