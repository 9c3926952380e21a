/**
 * The consuming edge of every CloudEvent function, whichever way the event came — a Knative
 * Trigger's HTTP delivery (shared/http/cloudevent-endpoint.ts) or the local mode's bus loop
 * (cli/start/system.ts): the handler runs in a consumer span continuing the trace of the event's
 * `traceparent` (distributed-tracing extension; the active trace when it has none), so every
 * line it logs and every event it publishes carry the trace of the push that caused it; and the
 * event is counted handled or failed by type.
 */
import { eventFailed, eventHandled } from '../metrics/metrics.ts';
import { continueTrace, FUNCTION_ATTRIBUTE, inSpan } from '../trace/tracing.ts';

/** The attributes of a received event this edge reads (before it is validated). */
export interface ReceivedEvent {
  id?: unknown;
  type?: unknown;
  traceparent?: unknown;
}

/** Runs `handle` for event `ce` on behalf of function `fn` (traced and counted); rethrows its failure. */
export async function consumeEvent<T>(fn: string, ce: ReceivedEvent, handle: () => Promise<T>): Promise<T> {
  const type = typeof ce.type === 'string' ? ce.type : 'unknown';
  const options = { kind: 'consumer' as const, attributes: { [FUNCTION_ATTRIBUTE]: fn, 'cloudevents.event_type': type, 'cloudevents.event_id': String(ce.id ?? '') } };
  const run = async (): Promise<T> => {
    try {
      const result = await handle();
      eventHandled(fn, type);
      return result;
    } catch (err) {
      eventFailed(fn, type);
      throw err;
    }
  };
  const name = `${type} receive`;
  return typeof ce.traceparent === 'string' ? continueTrace(name, ce.traceparent, options, run) : inSpan(name, options, run);
}
