/**
 * Composition root of log-ingest: the database (the commit point of every batch), live logs
 * for SSE viewers, and the bus for started/finished events.
 */
import { ConfigError } from '../../shared/errors/http-error.ts';
import { allReady, lazyHandler } from '../../shared/http/health.ts';
import type { Wire } from '../../shared/runtime/wired-function.ts';
import { makeHandler } from './handler.ts';

/** CloudEvent source of the events log-ingest emits. */
export const SOURCE = '/estafette/log-ingest';

export const wire: Wire = (runtime) => {
  const { config } = runtime;
  if (!config.jwtKey) throw new ConfigError('ESTAFETTE_JWT_KEY', 'is required to verify job tokens');
  const jwtKey = config.jwtKey;
  const pool = runtime.pool();
  return {
    name: 'log-ingest',
    // Live logs connect on the first batch, not at start.
    http: lazyHandler(async () => makeHandler({ pool, liveLogs: await runtime.liveLogs(), publish: runtime.publisher(SOURCE), jwtKey, log: runtime.log })),
    ready: () => allReady([() => runtime.databaseReady(), () => runtime.busReady()]),
    maxBodyBytes: config.maxWebhookBytes,
  };
};
