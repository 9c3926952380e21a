/**
 * What build-dispatch made of a push, for a webhook that waits for it (`?wait=<seconds>`): a
 * build (its id and number) or nothing, with the reason — e.g. a path filter that matches none
 * of the changed files. Like live logs, outcomes go over core NATS (`dispatch.outcome.<event id>`,
 * names.ts) and are never stored: a webhook that stops waiting simply answers without one, and
 * the reason is in dispatch's log anyway. The in-memory implementation does the same inside one
 * process (local mode without NATS).
 */
import type { NatsConnection } from 'nats';
import { outcomeSubject } from './names.ts';

/** What became of one event. */
export interface DispatchOutcome {
  eventId: string;
  /** `build`: a build was created (or found, for a redelivery); `skipped`: nothing was built. */
  outcome: 'build' | 'skipped';
  buildId?: string;
  buildNumber?: number;
  /** The build's status when it was dispatched (e.g. `queued`). */
  buildStatus?: string;
  /** Why nothing was built, or why the build has its status. */
  reason?: string;
}

/** Publishing and awaiting outcomes. */
export interface DispatchOutcomes {
  /** Sends an outcome to whoever waits for its event (fire and forget). */
  publish(o: DispatchOutcome): void;
  /**
   * Starts listening for the outcomes of `eventIds` (do this before publishing the events);
   * `result` resolves with those that arrived when all did or `timeoutMs` passed.
   */
  listen(eventIds: readonly string[], timeoutMs: number): { result: Promise<DispatchOutcome[]> };
  close(): Promise<void>;
}

/** Collects outcomes of `ids` from `subscribe`, resolving when all came or time is up. */
function collect(ids: readonly string[], timeoutMs: number, subscribe: (id: string, on: (o: DispatchOutcome) => void) => () => void): { result: Promise<DispatchOutcome[]> } {
  const got = new Map<string, DispatchOutcome>();
  const stops: Array<() => void> = [];
  const result = new Promise<DispatchOutcome[]>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (): void => {
      clearTimeout(timer);
      for (const s of stops) s();
      resolve(ids.flatMap((id) => (got.has(id) ? [got.get(id)!] : [])));
    };
    for (const id of ids) {
      stops.push(
        subscribe(id, (o) => {
          if (o.eventId !== id || got.has(id)) return;
          got.set(id, o);
          if (got.size === ids.length) done();
        }),
      );
    }
    timer = setTimeout(done, timeoutMs);
    if (ids.length === 0) done();
  });
  return { result };
}

/** Outcomes over core NATS. */
export class NatsDispatchOutcomes implements DispatchOutcomes {
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjectPrefix = '',
  ) {}

  publish(o: DispatchOutcome): void {
    this.nc.publish(`${this.subjectPrefix}${outcomeSubject(o.eventId)}`, this.encoder.encode(JSON.stringify(o)));
  }

  listen(eventIds: readonly string[], timeoutMs: number): { result: Promise<DispatchOutcome[]> } {
    return collect(eventIds, timeoutMs, (id, on) => {
      const sub = this.nc.subscribe(`${this.subjectPrefix}${outcomeSubject(id)}`, {
        max: 1,
        callback: (err, m) => {
          if (err) return;
          try {
            on(JSON.parse(this.decoder.decode(m.data)) as DispatchOutcome);
          } catch {
            // not ours
          }
        },
      });
      return () => sub.unsubscribe();
    });
  }

  async close(): Promise<void> {
    await this.nc.flush().catch(() => {});
  }
}

/** Outcomes inside one process, delivered asynchronously as over NATS. */
export class MemoryDispatchOutcomes implements DispatchOutcomes {
  private readonly listeners = new Map<string, Set<(o: DispatchOutcome) => void>>();

  publish(o: DispatchOutcome): void {
    const copy = JSON.stringify(o);
    for (const l of this.listeners.get(o.eventId) ?? []) queueMicrotask(() => l(JSON.parse(copy) as DispatchOutcome));
  }

  listen(eventIds: readonly string[], timeoutMs: number): { result: Promise<DispatchOutcome[]> } {
    return collect(eventIds, timeoutMs, (id, on) => {
      let set = this.listeners.get(id);
      if (!set) this.listeners.set(id, (set = new Set()));
      set.add(on);
      return () => {
        set.delete(on);
        if (set.size === 0) this.listeners.delete(id);
      };
    });
  }

  async close(): Promise<void> {}
}
