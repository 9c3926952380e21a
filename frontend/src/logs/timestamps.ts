/**
 * Line timestamps: off, absolute (the local time the line was read) or relative to the start of
 * its stage (`+1:02.345`); the choice is remembered in localStorage.
 */
import { useState } from 'preact/hooks';

/** The three ways of showing line times. */
export const TIMESTAMP_MODES = ['off', 'absolute', 'relative'] as const;
export type TimestampMode = (typeof TIMESTAMP_MODES)[number];

const KEY = 'estafette.log.timestamps';
const two = (n: number) => String(n).padStart(2, '0');

/** The time of a line as the mode shows it ('' for off or an unreadable time). */
export function formatLineTime(iso: string, mode: TimestampMode, stageStartMs: number | undefined): string {
  const t = Date.parse(iso);
  if (mode === 'off' || Number.isNaN(t)) return '';
  if (mode === 'absolute') {
    const d = new Date(t);
    return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
  }
  const ms = Math.max(0, t - (stageStartMs ?? t));
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const body = `${Math.floor((s % 3600) / 60)}:${two(s % 60)}.${String(ms % 1000).padStart(3, '0')}`;
  return `+${h ? `${h}:${body.padStart(9, '0')}` : body}`;
}

function stored(): TimestampMode {
  try {
    const v = localStorage.getItem(KEY);
    return (TIMESTAMP_MODES as readonly string[]).includes(v ?? '') ? (v as TimestampMode) : 'off';
  } catch {
    return 'off';
  }
}

/** The remembered mode and its setter. */
export function useTimestampMode(): [TimestampMode, (m: TimestampMode) => void] {
  const [mode, setMode] = useState<TimestampMode>(stored);
  return [
    mode,
    (m) => {
      setMode(m);
      try {
        localStorage.setItem(KEY, m);
      } catch {
        /* private mode: remembered for this page only */
      }
    },
  ];
}
