/**
 * A function's composition root served WITHOUT functions-framework: its handler on a bare
 * node:http server through our own adapter. Only for bench/webhook-ingest.ts, which loads it
 * beside the real (framework-hosted) function to show what the framework's request pipeline
 * (a Node domain per request, five body parsers, the express router) costs.
 *   node --import tsx bench/plain-host.ts <function>
 */
import { createServer } from 'node:http';
import { parseConfig } from '../shared/config/config.ts';
import { FUNCTION_NAMES, type FunctionName } from '../shared/http/functions.ts';
import { withHealth } from '../shared/http/health.ts';
import { toNodeListener } from '../shared/http/node-adapter.ts';
import { createLogger } from '../shared/log/logger.ts';
import { Runtime } from '../shared/runtime/runtime.ts';
import type { Wire } from '../shared/runtime/wired-function.ts';

const name = process.argv[2] as FunctionName;
if (!FUNCTION_NAMES.includes(name)) throw new Error(`usage: plain-host.ts <${FUNCTION_NAMES.join('|')}>`);
const { wire } = (await import(`../functions/${name}/wire.ts`)) as { wire: Wire };
const config = parseConfig();
const log = createLogger({ name, level: config.logLevel });
const fn = wire(new Runtime(config, log));
const server = createServer(toNodeListener(withHealth(name, fn.http, fn.ready), { maxBodyBytes: fn.maxBodyBytes, log }));
server.listen(config.port);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
