/**
 * A fake Clock (shared/time/clock.ts) for tests: time stands still until the test moves it, then
 * due timers fire in order, with promise callbacks run between them — timeouts, deadlines and
 * heartbeats are tested without waiting and without fixed sleeps.
 */
import { systemClock, type CancelTimer, type Clock } from '../../shared/time/clock.ts';

interface Timer {
  at: number;
  order: number;
  fn: () => void;
}

/** Lets every promise callback queued so far (and those they queue) run. */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

export class FakeClock implements Clock {
  private t: number;
  private order = 0;
  private timers: Timer[] = [];

  constructor(start = Date.parse('2024-01-01T00:00:00.000Z')) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): CancelTimer {
    const timer: Timer = { at: this.t + Math.max(0, ms), order: this.order++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const next = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!next) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
    await settle();
  }

  /** Advances in `stepMs` steps until `done` settles (at most `maxMs` of fake time); returns its value. */
  async advanceUntil<T>(done: Promise<T>, stepMs = 100, maxMs = 24 * 3600_000): Promise<T> {
    let settled = false;
    const watched = done.finally(() => (settled = true));
    for (let spent = 0; !settled && spent < maxMs; spent += stepMs) await this.advance(stepMs);
    if (!settled) throw new Error(`not settled after ${maxMs} ms of fake time`);
    return watched;
  }
}

/** A Clock whose now is whatever `time()` says when asked (a test pins or moves it); timers are real. */
export const clockAt = (time: () => Date): Clock => ({ now: () => time().getTime(), setTimer: systemClock.setTimer });
