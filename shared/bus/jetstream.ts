/**
 * The NATS JetStream transport (standalone and local mode with NATS): events are stored in the
 * stream CI_EVENTS under subject = event type (structured-mode CloudEvent JSON), published with
 * the event id as `Nats-Msg-Id` so the server drops duplicates within the window. Each
 * (consumer, type) is a durable pull consumer (`durableName`) read with the consumer API
 * (`js.consumers.get(stream, durable).consume()`), explicit ack after the handler resolves,
 * `nak(backoff)` when it throws, and dead letters published to CI_EVENTS_DLQ
 * (`dlq.<consumer>.<type>`) before the message is terminated. One durable per type rather than
 * one with `filter_subjects`, because nats-server 2.9 (used here) has no multi-subject filters.
 */
import { CloudEvent } from 'cloudevents';
import { AckPolicy, DeliverPolicy, headers, nanos, RetentionPolicy, StorageType, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
import type { EventType } from '../events/types.ts';
import type { Readiness } from '../http/health.ts';
import type { Logger } from '../log/logger.ts';
import { eventDeadLettered } from '../metrics/metrics.ts';
import { connectNats, isConnected } from './nats-connection.ts';
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
import { DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECT_PREFIX, deadLetterSubject, durableName, EVENTS_STREAM, eventSubject } from './names.ts';

/** Where and how the JetStream bus keeps events. */
export interface JetStreamBusOptions {
  /** NATS server URL(s), comma-separated; ignored when `connection` is given. */
  url?: string;
  /** An existing connection to use (not closed by close()). */
  connection?: NatsConnection;
  /** Stream of events (default CI_EVENTS). */
  stream?: string;
  /** Stream of dead letters (default CI_EVENTS_DLQ). */
  deadLetterStream?: string;
  /** Prefix of every subject, to namespace a bus on a shared server (default none). */
  subjectPrefix?: string;
  /** How long events are kept, in ms (default 7 days). */
  maxAgeMs?: number;
  /** Duplicate window for event ids, in ms (default 2 minutes). */
  duplicateWindowMs?: number;
  /** Where dead letters are logged. */
  log?: Logger;
}

const DAY = 86_400_000;

/** Connects to NATS, ensures the streams and returns the bus. */
export async function connectJetStreamBus(options: JetStreamBusOptions): Promise<JetStreamBus> {
  let nc = options.connection;
  const owns = !nc;
  if (!nc) {
    if (!options.url) throw new Error('jetstream bus: no NATS url');
    nc = await connectNats(options.url, { name: 'estafette-bus', ...(options.log ? { log: options.log } : {}) });
  }
  const bus = new JetStreamBus(nc, owns, await nc.jetstreamManager(), options);
  await bus.ensureStreams();
  return bus;
}

/** Bus over NATS JetStream; build it with connectJetStreamBus. */
export class JetStreamBus implements Bus {
  private readonly js: JetStreamClient;
  private readonly stream: string;
  private readonly dlq: string;
  private readonly prefix: string;
  private readonly subscriptions = new Set<Subscription>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamBusOptions,
  ) {
    this.js = nc.jetstream();
    this.stream = options.stream ?? EVENTS_STREAM;
    this.dlq = options.deadLetterStream ?? DEAD_LETTER_STREAM;
    this.prefix = options.subjectPrefix ?? '';
  }

  /** Creates the event and dead-letter streams, or updates their settings. */
  async ensureStreams(): Promise<void> {
    await this.ensureStream(this.stream, [eventSubject('ci.estafette.>', this.prefix)], this.options.maxAgeMs ?? 7 * DAY);
    await this.ensureStream(this.dlq, [`${this.prefix}${DEAD_LETTER_SUBJECT_PREFIX}>`], 30 * DAY);
  }

  private async ensureStream(name: string, subjects: string[], maxAgeMs: number): Promise<void> {
    const config = {
      subjects,
      max_age: nanos(maxAgeMs),
      duplicate_window: nanos(this.options.duplicateWindowMs ?? 120_000),
    };
    const exists = await this.jsm.streams.info(name).then(
      () => true,
      (err: Error) => {
        if (/not found/i.test(err.message)) return false;
        throw err;
      },
    );
    if (exists) await this.jsm.streams.update(name, config);
    else await this.jsm.streams.add({ name, ...config, retention: RetentionPolicy.Limits, storage: StorageType.File });
  }

  async publish(event: CloudEvent<unknown>): Promise<PublishResult> {
    assertPublishable(event);
    const h = headers();
    h.set('content-type', 'application/cloudevents+json');
    h.set('ce-type', event.type);
    const ack = await this.js.publish(eventSubject(event.type, this.prefix), new TextEncoder().encode(JSON.stringify(event)), { msgID: event.id, headers: h });
    return { duplicate: ack.duplicate };
  }

  async ready(): Promise<Readiness> {
    return isConnected(this.nc) ? { ok: true } : { ok: false, reason: 'NATS is not connected (reconnecting)' };
  }

  async subscribe(consumer: string, types: readonly EventType[], handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    assertConsumerName(consumer);
    const o = { ...SUBSCRIBE_DEFAULTS, ...options };
    const running: Array<{ messages: ConsumerMessages; done: Promise<void> }> = [];
    let stopped = false;
    for (const type of types) {
      const durable = durableName(consumer, type);
      await this.ensureConsumer(durable, eventSubject(type, this.prefix), o.ackWaitMs);
      const c = await this.js.consumers.get(this.stream, durable);
      // One message at a time: handlers run in order, and nothing sits prefetched when we stop.
      const messages = await c.consume({ max_messages: 1 });
      const done = (async () => {
        for await (const m of messages) {
          // Delivered after stop(): hand it straight back for the next subscriber.
          if (stopped) m.nak();
          else await this.handle(consumer, m, handler, o);
        }
      })();
      running.push({ messages, done });
    }
    const sub: Subscription = {
      stop: async () => {
        stopped = true;
        await Promise.all(running.map((r) => r.messages.close()));
        await Promise.all(running.map((r) => r.done));
        this.subscriptions.delete(sub);
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }

  private async ensureConsumer(durable: string, subject: string, ackWaitMs: number): Promise<void> {
    const exists = await this.jsm.consumers.info(this.stream, durable).then(
      () => true,
      (err: Error) => {
        if (/not found/i.test(err.message)) return false;
        throw err;
      },
    );
    if (exists) return;
    // Identical concurrent adds are idempotent on the server.
    await this.jsm.consumers.add(this.stream, {
      durable_name: durable,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // Unlimited here: dead-lettering is ours, so an event is never dropped by the server.
      max_deliver: -1,
      ack_wait: nanos(ackWaitMs),
    });
  }

  private async handle(consumer: string, m: JsMsg, handler: EventHandler, o: Required<SubscribeOptions>): Promise<void> {
    const attempt = m.info.deliveryCount;
    let event: CloudEvent<unknown>;
    try {
      event = new CloudEvent<unknown>(JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>, false);
    } catch (err) {
      // Not a CloudEvent: retrying cannot help.
      const raw = new CloudEvent<unknown>({ id: `seq-${m.seq}`, type: m.headers?.get('ce-type') || 'unknown', source: 'jetstream', data: new TextDecoder().decode(m.data) }, false);
      await this.deadLetter(consumer, m, raw, `not a CloudEvent: ${errorText(err)}`, attempt);
      return;
    }
    if (attempt > o.maxDeliveries) {
      // Only reachable when earlier deliveries timed out (ack wait) instead of failing.
      await this.deadLetter(consumer, m, event, `not acknowledged within ${o.ackWaitMs} ms`, attempt - 1);
      return;
    }
    // Tell the server a long handler is alive so it does not redeliver meanwhile.
    const keepAlive = setInterval(
      () => {
        try {
          m.working();
        } catch {
          // Connection gone: the server will redeliver after the ack wait; nothing to do here.
        }
      },
      Math.max(100, o.ackWaitMs / 3),
    );
    try {
      await handler(event, { attempt });
      clearInterval(keepAlive);
      await m.ackAck();
    } catch (err) {
      clearInterval(keepAlive);
      if (attempt >= o.maxDeliveries) await this.deadLetter(consumer, m, event, errorText(err), attempt);
      else m.nak(backoffFor(o.backoffMs, attempt));
    }
  }

  private async deadLetter(consumer: string, m: JsMsg, event: CloudEvent<unknown>, error: string, deliveries: number): Promise<void> {
    const letter: DeadLetter = { consumer, event, error, deliveries, at: new Date().toISOString() };
    const h = headers();
    h.set('content-type', 'application/cloudevents+json');
    h.set('Estafette-Consumer', consumer);
    h.set('Estafette-Error', error);
    h.set('Estafette-Deliveries', String(deliveries));
    h.set('Estafette-Dead-At', letter.at);
    try {
      await this.js.publish(deadLetterSubject(consumer, event.type, this.prefix), m.data, { msgID: `${consumer}:${event.id}`, headers: h });
    } catch (err) {
      // The dead-letter stream is unreachable: keep the event where it is and try again later.
      this.options.log?.error({ eventId: event.id, eventType: event.type, consumer, error: errorText(err) }, 'bus: cannot dead-letter the event; it stays on the stream');
      m.nak(60_000);
      return;
    }
    this.options.log?.error(deadLetterFields(letter), deadLetterLine(letter));
    eventDeadLettered(consumer, event.type);
    m.term();
  }

  async deadLetters(consumer?: string): Promise<DeadLetter[]> {
    const info = await this.jsm.streams.info(this.dlq);
    const subjectStart = consumer === undefined ? `${this.prefix}${DEAD_LETTER_SUBJECT_PREFIX}` : deadLetterSubject(consumer, '', this.prefix);
    const letters: DeadLetter[] = [];
    // Bounded: the newest 1000 messages of the dead-letter stream.
    for (let seq = Math.max(info.state.first_seq, info.state.last_seq - 999); seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const sm = await this.jsm.streams.getMessage(this.dlq, { seq }).catch(() => null);
      if (!sm || !sm.subject.startsWith(subjectStart)) continue;
      letters.push({
        consumer: sm.header.get('Estafette-Consumer'),
        event: storedEvent(sm.data, sm.seq),
        error: sm.header.get('Estafette-Error'),
        deliveries: Number(sm.header.get('Estafette-Deliveries')),
        at: sm.header.get('Estafette-Dead-At'),
      });
    }
    return letters;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.drain();
  }
}

/** The CloudEvent stored in a message body; a raw wrapper when the body is not one. */
function storedEvent(data: Uint8Array, seq: number): CloudEvent<unknown> {
  const text = new TextDecoder().decode(data);
  try {
    return new CloudEvent<unknown>(JSON.parse(text) as Record<string, unknown>, false);
  } catch {
    return new CloudEvent<unknown>({ id: `seq-${seq}`, type: 'unknown', source: 'jetstream', data: text }, false);
  }
}
