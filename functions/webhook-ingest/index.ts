/**
 * webhook-ingest on functions-framework: reads the config once, builds its dependencies on the
 * first request, registers the handler. Local mode mounts the same makeHandler in one process.
 */
import { parseConfig } from '../../shared/config/config.ts';
import { Runtime } from '../../shared/runtime/runtime.ts';
import { deliverySeen, recordDelivery } from '../../shared/db/deliveries.ts';
import { registerFunction } from '../../shared/http/framework.ts';
import { lazyHandler } from '../../shared/http/health.ts';
import { makeHandler } from './handler.ts';

export const SOURCE = '/estafette/webhook-ingest';

const config = parseConfig();
const runtime = new Runtime(config);

registerFunction(
  'webhook-ingest',
  lazyHandler(async () => {
    const publish = await runtime.publish(SOURCE);
    const pool = runtime.pool();
    return makeHandler({
      secrets: config.forgeSecrets,
      publish: (name, data, id) => publish(name, data, { id }),
      seen: (forge, id) => deliverySeen(pool, forge, id),
      remember: async (forge, id) => void (await recordDelivery(pool, forge, id)),
      maxBodyBytes: config.maxWebhookBytes,
      log: (line) => console.log(line),
    });
  }),
  { maxBodyBytes: config.maxWebhookBytes },
);
