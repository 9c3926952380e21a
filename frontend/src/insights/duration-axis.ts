/**
 * The y axis of a duration chart: from 0 to a round value above the longest duration, with ticks
 * at steps people read as durations (100ms, 1s, 5s, 30s, 1m, 5m, 1h, …) so every label is a
 * distinct, exact duration at every scale.
 */

/** Steps in seconds, smallest first. */
export const DURATION_STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** The smallest step giving at most `maxTicks` intervals up to `max`. */
export function durationStep(max: number, maxTicks = 5): number {
  return DURATION_STEPS.find((s) => max / s <= maxTicks) ?? Math.ceil(max / maxTicks / 86400) * 86400;
}

/** The axis range: [0, the first step multiple at or above `max`] (at least one step). */
export function durationRange(max: number, maxTicks = 5): [number, number] {
  const top = Math.max(0, Number.isFinite(max) ? max : 0);
  const step = durationStep(top || 1, maxTicks);
  return [0, Math.max(step, Math.ceil(top / step - 1e-9) * step)];
}

/** Tick values from 0 to `max` (inclusive) at the step for `max`. */
export function durationTicks(max: number, maxTicks = 5): number[] {
  const [, top] = durationRange(max, maxTicks);
  const step = durationStep(top, maxTicks);
  const out: number[] = [];
  for (let i = 0; i * step <= top + 1e-9; i++) out.push(Math.round(i * step * 1000) / 1000);
  return out;
}
