/**
 * The HTTP face of cron-relay. Like shared/http/cloudevent-endpoint.ts (binary or structured
 * CloudEvents, 202 when handled, 400 for a bad tick so Knative does not retry it, 500 for a
 * failure so it does), except that it also takes PingSource's `dev.knative.sources.ping`, which
 * is not one of our event types and so is validated by tick.ts rather than parseEvent.
 */
import { HTTP } from 'cloudevents';
import { ValidationError } from '../../shared/errors/http-error.ts';
import { json, type HttpHandler } from '../../shared/http/types.ts';
import { isTick, type TickEvent } from './tick.ts';

/** An HTTP handler delivering POSTed ticks to `handle`; other event types are acknowledged and ignored. */
export function tickEndpoint(handle: (event: TickEvent) => Promise<void>): HttpHandler {
  return async (req) => {
    if (req.method !== 'POST') throw new ValidationError('POST a CloudEvent', undefined, 405);
    let ce: unknown;
    try {
      ce = HTTP.toEvent({ headers: req.headers as Record<string, string>, body: req.rawBody.toString('utf8') });
    } catch (err) {
      throw new ValidationError(`not a CloudEvent: ${(err as Error).message}`);
    }
    if (Array.isArray(ce)) throw new ValidationError('batched CloudEvents are not accepted');
    const event = ce as TickEvent;
    if (!isTick(event)) return json(202, { ignored: true, reason: `event type '${event.type ?? ''}' is not handled here` });
    await handle(event);
    return json(202, { handled: event.id });
  };
}
