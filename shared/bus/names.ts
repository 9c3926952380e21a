/**
 * Infrastructure names in one place: the JetStream stream and subjects of the event bus,
 * the core NATS subjects of live logs, and the durable consumer names of the functions.
 */
import type { EventType } from '../events/types.ts';

/** JetStream stream holding every CloudEvent; subject = event type. */
export const EVENTS_STREAM = 'CI_EVENTS';
/** Stream of events whose handler failed too often. */
export const DEAD_LETTER_STREAM = 'CI_EVENTS_DLQ';
export const DEAD_LETTER_SUBJECT_PREFIX = 'dlq.';

/**
 * Subject an event type is published on. `prefix` (default none) namespaces a whole bus, e.g.
 * for tests sharing one NATS server; the stream then captures `<prefix>ci.estafette.>`.
 */
export const eventSubject = (type: EventType | string, prefix = ''): string => `${prefix}${type}`;

/** Subject of a dead letter: `dlq.<consumer>.<event type>` (under the same optional prefix). */
export const deadLetterSubject = (consumer: string, type: string, prefix = ''): string => `${prefix}${DEAD_LETTER_SUBJECT_PREFIX}${consumer}.${type}`;

/**
 * Durable JetStream consumer name of a consuming function for one event type
 * (`build-dispatch--git_push`): one durable per (function, type), because nats-server 2.9
 * has no multi-subject filters; names may not contain dots.
 */
export const durableName = (consumer: string, type: string): string => `${consumer}--${type.replace(/^ci\.estafette\./, '').replace(/[.*> ]/g, '_')}`;

/** Core NATS subject of a job's live log lines (never persisted in JetStream). */
export const logSubject = (kind: 'build' | 'release' | 'bot', id: string): string => (kind === 'build' ? `logs.${id}` : `logs.${kind}.${id}`);

/** Core NATS subject on which build-dispatch tells a waiting webhook what became of an event (never persisted). */
export const outcomeSubject = (eventId: string): string => `dispatch.outcome.${eventId.replace(/[.*> ]/g, '_')}`;
