/**
 * The in-process bus for the single-process local mode without NATS (like Knative's
 * InMemoryChannel), with the contract of bus.ts: durable consumers keep a queue each while
 * offline, failed events are redelivered after backoff and dead-lettered after maxDeliveries,
 * ids are deduplicated within the window. Events are re-serialised per delivery, so handlers
 * see JSON data exactly as over a network and cannot change what a redelivery receives.
 * Nothing survives the process, and a hanging handler is not redelivered (no ack wait).
 */
import { CloudEvent } from 'cloudevents';
import type { EventType } from '../events/types.ts';
import type { Logger } from '../log/logger.ts';
import { eventDeadLettered } from '../metrics/metrics.ts';
import {
  assertConsumerName,
  assertPublishable,
  backoffFor,
  deadLetterFields,
  deadLetterLine,
  errorText,
  SUBSCRIBE_DEFAULTS,
  type Bus,
  type DeadLetter,
  type EventHandler,
  type PublishResult,
  type SubscribeOptions,
  type Subscription,
} from './bus.ts';

/** Limits of the in-memory bus. */
export interface MemoryBusOptions {
  /** Events kept for consumers subscribing for the first time (default 10 000). */
  retain?: number;
  /** Duplicate window for event ids in ms (default 2 minutes, as JetStream). */
  duplicateWindowMs?: number;
  /** Where dead letters are logged (default: nowhere but deadLetters()). */
  log?: Logger;
}

interface Pending {
  json: string;
  type: string;
  deliveries: number;
  notBefore: number;
  inFlight: boolean;
}

interface Durable {
  consumer: string;
  type: string;
  queue: Pending[];
  wakers: Set<() => void>;
}

/** In-process Bus. */
export class MemoryBus implements Bus {
  private readonly options: Required<Omit<MemoryBusOptions, 'log'>> & Pick<MemoryBusOptions, 'log'>;
  private readonly retained: Array<{ type: string; json: string }> = [];
  private readonly seen = new Map<string, number>();
  private readonly durables = new Map<string, Durable>();
  private readonly subscriptions = new Set<Subscription>();
  private readonly dead: DeadLetter[] = [];
  private closed = false;

  constructor(options: MemoryBusOptions = {}) {
    this.options = { retain: 10_000, duplicateWindowMs: 120_000, ...options };
  }

  async publish(event: CloudEvent<unknown>): Promise<PublishResult> {
    if (this.closed) throw new Error('bus is closed');
    assertPublishable(event);
    const now = Date.now();
    for (const [id, at] of this.seen) if (now - at > this.options.duplicateWindowMs) this.seen.delete(id);
    if (this.seen.has(event.id)) return { duplicate: true };
    this.seen.set(event.id, now);
    const json = JSON.stringify(event);
    this.retained.push({ type: event.type, json });
    if (this.retained.length > this.options.retain) this.retained.shift();
    for (const d of this.durables.values()) {
      if (d.type !== event.type) continue;
      d.queue.push({ json, type: event.type, deliveries: 0, notBefore: 0, inFlight: false });
      wake(d);
    }
    return { duplicate: false };
  }

  async subscribe(consumer: string, types: readonly EventType[], handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.closed) throw new Error('bus is closed');
    assertConsumerName(consumer);
    const o = { ...SUBSCRIBE_DEFAULTS, ...options };
    let stopped = false;
    const loops = types.map((type) => this.loop(this.durable(consumer, type), handler, o, () => stopped));
    const durables = types.map((t) => this.durable(consumer, t));
    const sub: Subscription = {
      stop: async () => {
        stopped = true;
        durables.forEach(wake);
        await Promise.all(loops);
        this.subscriptions.delete(sub);
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }

  async deadLetters(consumer?: string): Promise<DeadLetter[]> {
    return this.dead.filter((d) => consumer === undefined || d.consumer === consumer);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
  }

  private durable(consumer: string, type: string): Durable {
    const key = `${consumer}\u0000${type}`;
    let d = this.durables.get(key);
    if (!d) {
      // A new consumer starts with what is retained, as a JetStream durable with DeliverPolicy.All.
      const queue = this.retained.filter((e) => e.type === type).map((e) => ({ json: e.json, type, deliveries: 0, notBefore: 0, inFlight: false }));
      d = { consumer, type, queue, wakers: new Set() };
      this.durables.set(key, d);
    }
    return d;
  }

  private async loop(d: Durable, handler: EventHandler, o: Required<SubscribeOptions>, stopped: () => boolean): Promise<void> {
    // Let subscribe() return before the first delivery, as with a network transport.
    await Promise.resolve();
    while (!stopped()) {
      const now = Date.now();
      const next = d.queue.find((p) => !p.inFlight && p.notBefore <= now);
      if (!next) {
        const soonest = Math.min(...d.queue.filter((p) => !p.inFlight).map((p) => p.notBefore));
        await sleepUntilWoken(d, Number.isFinite(soonest) ? soonest - now : undefined);
        continue;
      }
      next.inFlight = true;
      next.deliveries++;
      const event = new CloudEvent<unknown>(JSON.parse(next.json) as Record<string, unknown>, false);
      try {
        await handler(event, { attempt: next.deliveries });
        remove(d.queue, next);
      } catch (err) {
        next.inFlight = false;
        if (next.deliveries >= o.maxDeliveries) {
          remove(d.queue, next);
          const letter: DeadLetter = { consumer: d.consumer, event, error: errorText(err), deliveries: next.deliveries, at: new Date().toISOString() };
          this.dead.push(letter);
          this.options.log?.error(deadLetterFields(letter), deadLetterLine(letter));
          eventDeadLettered(letter.consumer, letter.event.type);
        } else {
          next.notBefore = Date.now() + backoffFor(o.backoffMs, next.deliveries);
        }
      }
    }
  }
}

const remove = (queue: Pending[], p: Pending): void => {
  const i = queue.indexOf(p);
  if (i >= 0) queue.splice(i, 1);
};

function wake(d: Durable): void {
  for (const w of d.wakers) w();
  d.wakers.clear();
}

function sleepUntilWoken(d: Durable, ms: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = ms === undefined ? undefined : setTimeout(done, Math.max(0, ms));
    function done(): void {
      if (timer) clearTimeout(timer);
      d.wakers.delete(done);
      resolve();
    }
    d.wakers.add(done);
  });
}
