/**
 * The HTTP face of cron-relay: the shared CloudEvent endpoint, taking ticks of both types —
 * also PingSource's `dev.knative.sources.ping`, which is not one of our event types and so is
 * validated by tick.ts (in the handler) rather than parseEvent.
 */
import { cloudEventEndpoint } from '../../shared/http/cloudevent-endpoint.ts';
import type { HttpHandler } from '../../shared/http/types.ts';
import { TICK_TYPES, type TickEvent } from './tick.ts';

/** An HTTP handler delivering POSTed ticks to `handle`; other event types are acknowledged and ignored. */
export function tickEndpoint(handle: (event: TickEvent) => Promise<void>): HttpHandler {
  return cloudEventEndpoint<TickEvent>(handle, { consumer: 'cron-relay', parse: (ce) => ce as TickEvent, accept: (type) => TICK_TYPES.includes(type) });
}
