/**
 * The process-wide "this instance is stopping" signal. The Knative entry (serve.ts) raises it on
 * SIGTERM, before it waits for requests in flight; long-lived responses (query-api's SSE log
 * streams) watch it and end with a final event telling the client to reconnect — it resumes with
 * Last-Event-ID on another instance — instead of being cut when the grace period runs out.
 */
import { setMaxListeners } from 'node:events';

const controller = new AbortController();
// Every open SSE stream listens: hundreds of viewers are normal, not a leak.
setMaxListeners(0, controller.signal);

/** Aborted once the process has begun to stop. */
export const stopping: AbortSignal = controller.signal;

/** Tells every long-lived response that the process is stopping (idempotent). */
export function beginStopping(): void {
  controller.abort();
}
