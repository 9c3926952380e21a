/**
 * The HTTP face of a CloudEvent function (Knative Triggers deliver events by HTTP POST, binary or
 * structured mode): parse with the `cloudevents` package, validate with parseEvent, run the
 * handler. 202 when handled; 400 for an event that is not valid (Knative does not retry 400);
 * a handler failure becomes 500 so the Broker redelivers and finally dead-letters it.
 */
import { HTTP } from 'cloudevents';
import { ValidationError } from '../errors/http-error.ts';
import { parseEvent, type ParsedEvent } from '../events/validate.ts';
import { json, type HttpHandler } from './types.ts';

/** An HTTP handler delivering POSTed CloudEvents to `handle`. */
export function cloudEventEndpoint(handle: (event: ParsedEvent) => Promise<void>, accept: (type: string) => boolean = () => true): HttpHandler {
  return async (req) => {
    if (req.method !== 'POST') throw new ValidationError('POST a CloudEvent', undefined, 405);
    let ce: unknown;
    try {
      ce = HTTP.toEvent({ headers: req.headers as Record<string, string>, body: req.rawBody.toString('utf8') });
    } catch (err) {
      throw new ValidationError(`not a CloudEvent: ${(err as Error).message}`);
    }
    if (Array.isArray(ce)) throw new ValidationError('batched CloudEvents are not accepted');
    const type = (ce as { type?: string }).type ?? '';
    if (!accept(type)) return json(202, { ignored: true, reason: `event type '${type}' is not handled here` });
    const event = parseEvent(ce);
    await handle(event);
    return json(202, { handled: event.id });
  };
}
