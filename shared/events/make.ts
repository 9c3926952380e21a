/**
 * Building CloudEvents of the estafette types: `makeEvent('build.requested', data, { source })`
 * gives a CloudEvents 1.0 event (cloudevents package) with type `ci.estafette.build.requested`,
 * JSON data, a fresh id unless one is given (pass a deterministic id to make re-publishing
 * idempotent: the bus drops duplicates by id) and the current time — and, when given, the W3C
 * `traceparent` of the CloudEvents distributed-tracing extension, which ties the event to the
 * trace of whatever caused it (shared/trace/).
 */
import { randomUUID } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import { eventType, type EventName, type EventPayloads } from './types.ts';

/** Attributes of a new event besides type and data. */
export interface MakeEventOptions {
  /** URI-reference of the producer, e.g. `/estafette/webhook-ingest`. */
  source: string;
  /** Event id; default a random UUID. */
  id?: string;
  /** What the event is about, e.g. `github.com/owner/repo` or a build id. */
  subject?: string;
  /** ISO-8601 time; default now. */
  time?: string;
  /** Distributed-tracing extension attribute: the trace this event continues. */
  traceparent?: string;
}

/** A CloudEvent of type `ci.estafette.<name>` carrying `data`. */
export function makeEvent<N extends EventName>(name: N, data: EventPayloads[N], options: MakeEventOptions): CloudEvent<EventPayloads[N]> {
  // Not re-validated by the cloudevents package (strict = false): every attribute is ours and
  // well-formed by construction, and this runs on the webhook's hot path; received events are
  // validated at the edge (validate.ts).
  return new CloudEvent<EventPayloads[N]>(
    {
      specversion: '1.0',
      id: options.id ?? randomUUID(),
      type: eventType(name),
      source: options.source,
      ...(options.subject === undefined ? {} : { subject: options.subject }),
      time: options.time ?? new Date().toISOString(),
      ...(options.traceparent === undefined ? {} : { traceparent: options.traceparent }),
      datacontenttype: 'application/json',
      data,
    },
    false,
  );
}
