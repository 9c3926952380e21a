/**
 * query-api on functions-framework: the REST API behind the web UI and CLI. Sign-in comes from
 * ESTAFETTE_AUTH (off when unset), live logs from core NATS (NATS_URL) or this process.
 */
import { parseConfig } from '../../shared/config/config.ts';
import { parseAuthSettings } from '../../shared/auth/settings.ts';
import { Runtime } from '../../shared/runtime/runtime.ts';
import { registerFunction } from '../../shared/http/framework.ts';
import { lazyHandler } from '../../shared/http/health.ts';
import { connectLiveLogs, MemoryLiveLogs } from '../../shared/bus/live-logs.ts';
import { makeHandler } from './handler.ts';

/** CloudEvent source of the events query-api emits. */
export const SOURCE = '/estafette/query-api';

const config = parseConfig();
const auth = parseAuthSettings(process.env, config.jwtKey, config.baseUrl);
const runtime = new Runtime(config);

registerFunction(
  'query-api',
  lazyHandler(async () =>
    makeHandler({
      pool: runtime.pool(),
      liveLogs: config.natsUrl ? await connectLiveLogs(config.natsUrl, config.busSubjectPrefix) : new MemoryLiveLogs(),
      publish: await runtime.publish(SOURCE),
      auth,
      ...(config.secretKey ? { secretKey: config.secretKey } : {}),
      log: (line) => console.log(line),
    }),
  ),
);
