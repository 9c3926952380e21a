/**
 * The clock: the one source of "now" and of timers for code whose behaviour depends on time —
 * the builder's orchestration (stage timeouts, readiness deadlines, durations) and log shipper
 * (flush, backoff, heartbeats), log-ingest's token cache, build-dispatch's job tokens.
 * Production uses the system clock; tests inject a fake one (test/support/fake-clock.ts) so
 * timeouts, expiries and heartbeats are tested without waiting and without fixed sleeps.
 */

/** Cancels a timer set with `Clock.setTimer`; calling it after the timer fired is a no-op. */
export type CancelTimer = () => void;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimer(fn: () => void, ms: number): CancelTimer;
}

/** The real clock (Date.now and setTimeout). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** Resolves after `ms` on `clock`, or as soon as `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const cancel = clock.setTimer(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** ISO-8601 time of `clock`'s now. */
export const isoNow = (clock: Clock): string => new Date(clock.now()).toISOString();
