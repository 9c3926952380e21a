/**
 * Composition root of query-api: the database, live logs for SSE, the bus for the actions it
 * publishes (rebuild, cancel, release), sign-in from the config, and the built UI when
 * ESTAFETTE_UI_DIR names it (the local mode does).
 */
import { allReady, lazyHandler } from '../../shared/http/health.ts';
import type { Wire } from '../../shared/runtime/wired-function.ts';
import { makeHandler } from './handler.ts';

/** CloudEvent source of the events query-api emits. */
export const SOURCE = '/estafette/query-api';

export const wire: Wire = (runtime) => {
  const { config } = runtime;
  const pool = runtime.pool();
  return {
    name: 'query-api',
    http: lazyHandler(async () =>
      makeHandler({
        pool,
        liveLogs: await runtime.liveLogs(),
        publish: runtime.publisher(SOURCE),
        auth: config.auth,
        ...(config.secretKey ? { secretKey: config.secretKey } : {}),
        ...(config.uiDir ? { staticDir: config.uiDir } : {}),
        log: runtime.log,
      }),
    ),
    // Its actions (rebuild, cancel, release) are events: not ready while they could not be sent.
    ready: () => allReady([() => runtime.databaseReady(), () => runtime.busReady()]),
    maxBodyBytes: config.maxWebhookBytes,
  };
};
