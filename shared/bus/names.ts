/**
 * Infrastructure names in one place: the JetStream stream and subjects of the event bus,
 * the core NATS subjects of live logs, and the durable consumer names of the functions.
 */
import type { EventType } from '../events/types.ts';

/** JetStream stream holding every CloudEvent; subject = event type. */
export const EVENTS_STREAM = 'CI_EVENTS';
/** Subjects captured by EVENTS_STREAM (event types all start with `ci.estafette.`). */
export const EVENTS_SUBJECTS = ['ci.estafette.>'];
/** Stream of events whose handler failed too often. */
export const DEAD_LETTER_STREAM = 'CI_EVENTS_DLQ';
export const DEAD_LETTER_SUBJECT_PREFIX = 'dlq.';

/** Subject an event type is published on. */
export const eventSubject = (type: EventType): string => type;

/** Core NATS subject of a job's live log lines (never persisted in JetStream). */
export const logSubject = (kind: 'build' | 'release' | 'bot', id: string): string =>
  kind === 'build' ? `logs.${id}` : `logs.${kind}.${id}`;

/** Durable consumer names: one per consuming function. */
export const CONSUMERS = {
  buildDispatch: 'build-dispatch',
  cronRelay: 'cron-relay',
} as const;
