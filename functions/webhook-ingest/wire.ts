/**
 * Composition root of webhook-ingest: the forge secrets from the config and one publish per
 * event. It needs no database, so readiness is the bus alone.
 */
import type { Wire } from '../../shared/runtime/wired-function.ts';
import { makeHandler } from './handler.ts';

/** CloudEvent source of the events webhook-ingest emits. */
export const SOURCE = '/estafette/webhook-ingest';

export const wire: Wire = (runtime) => {
  const { config } = runtime;
  const publish = runtime.publisher(SOURCE);
  return {
    name: 'webhook-ingest',
    http: makeHandler({
      secrets: config.forgeSecrets,
      publish: (name, data, id) => publish(name, data, { id }),
      maxBodyBytes: config.maxWebhookBytes,
      forkPullRequests: config.forkPullRequests,
      log: runtime.log,
      outcomes: () => runtime.outcomes(),
      maxWaitSeconds: config.maxWebhookWaitSeconds,
      botEvents: true,
    }),
    ready: () => runtime.busReady(),
    maxBodyBytes: config.maxWebhookBytes,
  };
};
