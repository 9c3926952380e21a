/**
 * How times, durations and revisions are written on screen: short, human, and the same on
 * every page (`2m 05s`, `3h ago`, `a1b2c3d`).
 */

/** An API duration (Estafette's unit: integer nanoseconds) in seconds; null/undefined stay so. */
export function fromNs<T extends number | null | undefined>(ns: T): T {
  return (typeof ns === 'number' ? ns / 1e9 : ns) as T;
}

/** Seconds as `850ms`, `12s`, `2m 05s`, `1h 02m`; empty for unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** An ISO time as `just now`, `5m ago`, `3h ago`, `2d ago`, or a date when older than a month. */
export function formatAge(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const s = Math.max(0, (now - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  if (s < 30 * 86400) return `${Math.round(s / 86400)}d ago`;
  return new Date(t).toISOString().slice(0, 10);
}

/** An ISO time as a full local date and time (for `title` tooltips and headers). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : new Date(t).toLocaleString();
}

/** The first 7 characters of a git revision. */
export const shortRevision = (rev: string | null | undefined): string => (rev ? rev.slice(0, 7) : '');

/** Seconds elapsed since `iso` until `end` (or now): the live duration of a running build. */
export function elapsedSeconds(iso: string | null | undefined, end?: string | null): number | null {
  if (!iso) return null;
  const start = Date.parse(iso);
  const stop = end ? Date.parse(end) : Date.now();
  return Number.isNaN(start) || Number.isNaN(stop) ? null : Math.max(0, (stop - start) / 1000);
}
