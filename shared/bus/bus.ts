/**
 * The event bus: one interface, four transports (jetstream.ts, broker.ts, postgres.ts — the
 * durable default of the local mode — and memory.ts), all checked by one contract suite
 * (test/integration/bus/contract.ts).
 *
 * Contract of every transport that delivers (jetstream, postgres, memory):
 * - **At least once.** A handler that resolves acknowledges the event; one that throws gets it
 *   again after a backoff, and so does another instance when the process handling it dies
 *   (JetStream's ack wait; a live handler heartbeats however long it runs). Handlers must be
 *   idempotent — key side effects on the event id (shared/db/events.ts markEventProcessed,
 *   builds.event_id). After `maxDeliveries` failed deliveries (default 5) the event goes to the
 *   dead-letter stream (CI_EVENTS_DLQ) with the last error and is logged: never dropped silently.
 * - **Ordering.** One durable consumer per (consumer name, event type) handles one event at a
 *   time, in publish order per type. A failed event waits for its backoff while later events of
 *   the same type go ahead, so after a failure order is not guaranteed; there is no order
 *   across types. (Knative Brokers guarantee no order at all.)
 * - **Durability.** A consumer name is durable: events published while no subscription of it
 *   runs are delivered when one starts again. A name subscribing for the first time also gets
 *   the events of its types still retained by the stream.
 * - **Dedupe.** Publishing an event whose id was published within the duplicate window
 *   (2 minutes) is a no-op, so a producer may retry a publish with the same event.
 * - Several subscriptions with the same consumer name share its events (each goes to one).
 * The broker transport only publishes; Knative Triggers deliver over HTTP and own retries and
 * dead letters there (knative/ Trigger `delivery`).
 */
import type { CloudEvent } from 'cloudevents';
import { ValidationError } from '../errors/http-error.ts';
import { isEventType, type EventType } from '../events/types.ts';
import type { Readiness } from '../http/health.ts';
import { parseTraceparent } from '../trace/traceparent.ts';

/** Handles one delivery; resolve = ack, throw = redeliver after backoff (or dead-letter). */
export type EventHandler = (event: CloudEvent<unknown>, delivery: Delivery) => Promise<void>;

/** About one delivery of an event. */
export interface Delivery {
  /** 1 for the first delivery, 2 for the first redelivery, … */
  attempt: number;
}

/** Redelivery policy of a subscription. */
export interface SubscribeOptions {
  /** Deliveries before dead-lettering (default 5). */
  maxDeliveries?: number;
  /** Delay before redelivery n+1 after failed delivery n: backoffMs[n-1], last value repeated. */
  backoffMs?: readonly number[];
  /** After this long without an answer or heartbeat from a (dead) instance, the event is redelivered (default 5 min). */
  ackWaitMs?: number;
}

/** Redelivery policy when a subscription gives none. */
export const SUBSCRIBE_DEFAULTS: Required<SubscribeOptions> = {
  maxDeliveries: 5,
  backoffMs: [1_000, 5_000, 30_000, 120_000],
  ackWaitMs: 300_000,
};

/** Delay before the next delivery after failed delivery number `attempt`. */
export const backoffFor = (backoffMs: readonly number[], attempt: number): number => (backoffMs.length ? backoffMs[Math.min(attempt, backoffMs.length) - 1]! : 0);

/** What the transport said about one publish. */
export interface PublishResult {
  /** True when an event with this id was already published within the duplicate window (dropped). */
  duplicate: boolean;
}

/** A running subscription. */
export interface Subscription {
  /** Stops taking events (the consumer stays durable) after the handler in progress finishes. */
  stop(): Promise<void>;
}

/** An event that failed `deliveries` times, with the last error. */
export interface DeadLetter {
  consumer: string;
  event: CloudEvent<unknown>;
  error: string;
  deliveries: number;
  /** ISO-8601 time it was dead-lettered. */
  at: string;
}

/** The bus. */
export interface Bus {
  /** Publishes an event of a `ci.estafette.*` type; resolves once the transport accepted (and stored) it. */
  publish(event: CloudEvent<unknown>): Promise<PublishResult>;
  /** Whether a publish can succeed now (connected); absent = always. */
  ready?(): Promise<Readiness>;
  /** Delivers events of `types` to `handler` as durable consumer `consumer` ([A-Za-z0-9_-]+). */
  subscribe(consumer: string, types: readonly EventType[], handler: EventHandler, options?: SubscribeOptions): Promise<Subscription>;
  /** Dead letters, oldest first, of one consumer or all (for operators and tests). */
  deadLetters(consumer?: string): Promise<DeadLetter[]>;
  /** Stops every subscription and releases connections. */
  close(): Promise<void>;
}

/** Throws a ValidationError unless `event` has one of our types and an id (checked by every publish). */
export function assertPublishable(event: CloudEvent<unknown>): void {
  if (!isEventType(event.type)) throw new ValidationError(`cannot publish event of type '${event.type}': not a ci.estafette.* type`);
  if (!event.id) throw new ValidationError('cannot publish an event without id');
}

/** Throws a ValidationError unless `consumer` can name a durable consumer. */
export function assertConsumerName(consumer: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(consumer)) throw new ValidationError(`invalid consumer name '${consumer}': use [A-Za-z0-9_-]`);
}

/**
 * What a dead letter is about, from the payload's repository fields: repository
 * (`source/owner/name`), branch (or tag) and revision — never any other payload field.
 */
export function deadLetterAbout(d: DeadLetter): { repository?: string; branch?: string; revision?: string } {
  const data = d.event.data as Record<string, unknown> | null | undefined;
  if (data === null || typeof data !== 'object') return {};
  const s = (k: string): string | undefined => (typeof data[k] === 'string' && data[k] !== '' ? (data[k] as string).slice(0, 300) : undefined);
  const repository = s('repoSource') && s('repoOwner') && s('repoName') ? `${s('repoSource')}/${s('repoOwner')}/${s('repoName')}` : undefined;
  const branch = s('branch') ?? s('tag') ?? s('headBranch');
  const revision = s('revision');
  return { ...(repository ? { repository } : {}), ...(branch ? { branch } : {}), ...(revision ? { revision } : {}) };
}

/** One line about a dead letter, naming repository, branch and revision when it has them, without the rest of the payload. */
export const deadLetterLine = (d: DeadLetter): string => {
  const a = deadLetterAbout(d);
  const about = a.repository ? ` (repository ${a.repository}${a.branch ? ` branch ${a.branch}` : ''}${a.revision ? ` revision ${a.revision}` : ''})` : '';
  return `bus: dead-lettered ${d.event.type} ${d.event.id}${about} for ${d.consumer} after ${d.deliveries} deliveries: ${d.error}`;
};

/** The log fields of a dead letter (ids, repository, branch, revision, its trace and the cause; never the rest of the payload). */
export const deadLetterFields = (d: DeadLetter) => {
  const traceId = parseTraceparent(d.event.traceparent)?.traceId;
  return { eventId: d.event.id, eventType: d.event.type, ...deadLetterAbout(d), consumer: d.consumer, deliveries: d.deliveries, error: d.error, ...(traceId ? { traceId } : {}) };
};

/** The message of a thrown value on one line, bounded (for dead letters and logs). */
export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 1000);
