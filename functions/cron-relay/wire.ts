/**
 * Composition root of cron-relay: the database, the bus, and — where this process can see the
 * builders (Kubernetes, or the local mode's own runner) — the job runner housekeeping checks.
 */
import { consumedBy } from '../../shared/http/functions.ts';
import { allReady } from '../../shared/http/health.ts';
import type { Wire } from '../../shared/runtime/wired-function.ts';
import { tickEndpoint } from './endpoint.ts';
import { makeHandler } from './handler.ts';
import type { TickEvent } from './tick.ts';

/** CloudEvent source of the events cron-relay emits. */
export const SOURCE = '/estafette/cron-relay';

export const wire: Wire = (runtime) => {
  const runner = runtime.housekeepingRunner();
  const handle = makeHandler({
    pool: runtime.pool(),
    publish: runtime.publisher(SOURCE),
    ...(runner ? { runner } : {}),
    log: runtime.log,
    housekeeping: { activeGraceMs: runtime.config.heartbeatTimeoutSeconds * 1000 },
  });
  return {
    name: 'cron-relay',
    http: tickEndpoint(handle),
    consumer: { types: consumedBy('cron-relay'), handle: (ce) => handle(ce as TickEvent) },
    ready: () => allReady([() => runtime.databaseReady(), () => runtime.busReady()]),
    maxBodyBytes: runtime.config.maxWebhookBytes,
    warm: () => runtime.warmJobRunner(),
  };
};
