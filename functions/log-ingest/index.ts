/**
 * log-ingest on functions-framework: builders POST log batches and status reports to it. Live
 * lines go out over core NATS (NATS_URL) or, without it, stay in this process.
 */
import { parseConfig } from '../../shared/config/config.ts';
import { ConfigError } from '../../shared/errors/http-error.ts';
import { Runtime } from '../../shared/runtime/runtime.ts';
import { registerFunction } from '../../shared/http/framework.ts';
import { lazyHandler } from '../../shared/http/health.ts';
import { connectLiveLogs, MemoryLiveLogs } from '../../shared/bus/live-logs.ts';
import { makeHandler } from './handler.ts';

/** CloudEvent source of the events log-ingest emits. */
export const SOURCE = '/estafette/log-ingest';

const config = parseConfig();
const runtime = new Runtime(config);

registerFunction(
  'log-ingest',
  lazyHandler(async () => {
    if (!config.jwtKey) throw new ConfigError('ESTAFETTE_JWT_KEY', 'is required to verify job tokens');
    return makeHandler({
      pool: runtime.pool(),
      liveLogs: config.natsUrl ? await connectLiveLogs(config.natsUrl, config.busSubjectPrefix) : new MemoryLiveLogs(),
      publish: await runtime.publish(SOURCE),
      jwtKey: config.jwtKey,
      log: (line) => console.log(line),
    });
  }),
);
