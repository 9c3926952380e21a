/**
 * The Knative transport: publish POSTs the CloudEvent in binary mode to the Broker ingress at
 * K_SINK (injected by a SinkBinding). 5xx, 429 and connection errors are retried with
 * exponential backoff and jitter; other 4xx mean the event is wrong and fail at once. There is
 * no subscribe: Knative Triggers deliver events to each function over HTTP, and the Trigger's
 * `delivery` (retry, backoff, deadLetterSink) replaces this module's redelivery and DLQ.
 */
import { HTTP, type CloudEvent } from 'cloudevents';
import type { EventType } from '../events/types.ts';
import { assertPublishable, errorText, type Bus, type DeadLetter, type EventHandler, type PublishResult, type SubscribeOptions, type Subscription } from './bus.ts';

/** Where and how hard to publish. */
export interface BrokerBusOptions {
  /** Broker ingress URL (K_SINK). */
  sink: string;
  /** Attempts per publish including the first (default 5). */
  attempts?: number;
  /** First backoff in ms, doubled per attempt (default 200). */
  baseDelayMs?: number;
  /** Timeout of one POST in ms (default 10 s). */
  timeoutMs?: number;
}

/** Thrown when the broker refuses an event (4xx) or stays unreachable after all attempts. */
export class PublishError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

/** Publish-only Bus over a Knative Broker. */
export class BrokerBus implements Bus {
  private readonly o: Required<BrokerBusOptions>;

  constructor(options: BrokerBusOptions) {
    this.o = { attempts: 5, baseDelayMs: 200, timeoutMs: 10_000, ...options };
    try {
      new URL(this.o.sink);
    } catch {
      throw new PublishError('broker bus: K_SINK is not a URL');
    }
  }

  async publish(event: CloudEvent<unknown>): Promise<PublishResult> {
    assertPublishable(event);
    const msg = HTTP.binary(event);
    // Binary mode already carries the event's trace as ce-traceparent; the plain W3C header too
    // lets the Broker's own spans join the same trace.
    const traceparent: Record<string, string> = typeof event.traceparent === 'string' ? { traceparent: event.traceparent } : {};
    const what = `${event.type} ${event.id}`;
    let last = '';
    for (let attempt = 1; attempt <= this.o.attempts; attempt++) {
      try {
        const res = await fetch(this.o.sink, {
          method: 'POST',
          headers: { ...(msg.headers as Record<string, string>), ...traceparent },
          body: msg.body as string,
          signal: AbortSignal.timeout(this.o.timeoutMs),
        });
        // The Broker's channel (NATS JetStream) dedupes by event id; it does not tell us.
        if (res.ok) return { duplicate: false };
        const text = (await res.text().catch(() => '')).slice(0, 200);
        last = `HTTP ${res.status}${text ? ` ${text}` : ''}`;
        if (res.status < 500 && res.status !== 429) throw new PublishError(`broker rejected ${what}: ${last}`, res.status);
      } catch (err) {
        if (err instanceof PublishError) throw err;
        last = errorText(err instanceof Error && err.cause ? err.cause : err);
      }
      if (attempt < this.o.attempts) {
        const cap = this.o.baseDelayMs * 2 ** (attempt - 1);
        await new Promise((r) => setTimeout(r, cap / 2 + (Math.random() * cap) / 2));
      }
    }
    throw new PublishError(`broker unreachable for ${what} after ${this.o.attempts} attempts: ${last}`);
  }

  async subscribe(_consumer: string, _types: readonly EventType[], _handler: EventHandler, _options?: SubscribeOptions): Promise<Subscription> {
    throw new Error('the broker bus cannot subscribe: Knative Triggers deliver events to functions over HTTP');
  }

  async deadLetters(_consumer?: string): Promise<DeadLetter[]> {
    throw new Error("the broker bus has no dead letters here: see the Trigger's deadLetterSink");
  }

  async close(): Promise<void> {}
}
