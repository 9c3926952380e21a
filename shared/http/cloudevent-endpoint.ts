/**
 * The HTTP face of a CloudEvent function (Knative Triggers deliver events by HTTP POST, binary or
 * structured mode): parse with the `cloudevents` package, validate (parseEvent by default), run the
 * handler. 202 when handled; 400 for an event that is not valid (Knative does not retry 400);
 * a handler failure becomes 500 so the Broker redelivers and finally dead-letters it. Event types
 * the function does not take are acknowledged and ignored. The handler runs at the consuming
 * edge (shared/events/consume.ts): traced as part of the event's trace, and counted.
 */
import { HTTP } from 'cloudevents';
import { ValidationError } from '../errors/http-error.ts';
import { consumeEvent } from '../events/consume.ts';
import { parseEvent, type ParsedEvent } from '../events/validate.ts';
import { json, type HttpHandler } from './types.ts';

export interface EndpointOptions<E> {
  /** The consuming function (span attribute and metric label). */
  consumer: string;
  /** Validates a received CloudEvent into what the handler takes (throws ValidationError). */
  parse: (ce: unknown) => E;
  /** Whether events of this type are for this function. */
  accept: (type: string) => boolean;
}

/** An HTTP handler delivering POSTed CloudEvents to `handle`. */
export function cloudEventEndpoint<E = ParsedEvent>(handle: (event: E) => Promise<void>, options: Partial<EndpointOptions<E>> = {}): HttpHandler {
  const parse = options.parse ?? (parseEvent as unknown as (ce: unknown) => E);
  const accept = options.accept ?? (() => true);
  return async (req) => {
    if (req.method !== 'POST') throw new ValidationError('POST a CloudEvent', undefined, 405);
    let ce: unknown;
    try {
      ce = HTTP.toEvent({ headers: req.headers as Record<string, string>, body: req.rawBody.toString('utf8') });
    } catch (err) {
      throw new ValidationError(`not a CloudEvent: ${(err as Error).message}`);
    }
    if (Array.isArray(ce)) throw new ValidationError('batched CloudEvents are not accepted');
    const { type = '', id } = ce as { type?: string; id?: string };
    if (!accept(type)) return json(202, { ignored: true, reason: `event type '${type}' is not handled here` });
    await consumeEvent(options.consumer ?? 'unknown', ce as Record<string, unknown>, () => handle(parse(ce)));
    return json(202, { handled: id });
  };
}
