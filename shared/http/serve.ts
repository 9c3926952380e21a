/**
 * The Knative entry of a function: `functions/<name>/index.ts` calls
 * `runFunction(name, () => import('./wire.ts'))`, and the bundle `dist/functions/<name>.mjs` is
 * what its image runs. Scale-to-zero makes start-up part of every push, so this module is small
 * and loads nothing heavy: it parses the config (a bad value is one line naming the variable,
 * exit 1), binds PORT at once and answers `/liveness` itself (the process is up), while the
 * function — its composition root, the logger, functions-framework (framework-host.ts) — loads
 * behind it. Every other request, `/readiness` included (503 with the reason until the function
 * and its dependencies are there), is handed to the framework's app as soon as it is loaded.
 * SIGTERM (Knative scaling to zero) stops accepting, tells long-lived responses to end (SSE
 * streams send a final `reconnect` event, stopping.ts), lets in-flight requests finish within a
 * second and exits 0 — also before the function has loaded.
 */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { parseConfig, type Config } from '../config/config.ts';
import { ConfigError } from '../errors/http-error.ts';
import type { Wire } from '../runtime/wired-function.ts';
import type { FunctionName } from './functions.ts';
import type { HostedFunction } from './framework-host.ts';
import { beginStopping } from './stopping.ts';

/** How long in-flight requests get to finish after SIGTERM before connections are cut. */
const STOP_GRACE_MS = 1000;

const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
};

/** Serves function `name` on PORT until SIGTERM/SIGINT; `load` imports its composition root. */
export async function runFunction(name: FunctionName, load: () => Promise<{ wire: Wire }>): Promise<void> {
  let config: Config;
  try {
    config = parseConfig();
  } catch (err) {
    const { logStartFailure } = await import('./framework-host.ts');
    logStartFailure(name, (err as Error).message, err instanceof ConfigError ? { variable: err.variable } : {});
    process.exit(1);
  }

  let hosted: HostedFunction | undefined;
  const loading: Promise<HostedFunction> = (async () => {
    const [{ hostFunction }, { wire }] = await Promise.all([import('./framework-host.ts'), load()]);
    return (hosted = await hostFunction(name, wire, config));
  })();
  // A function that cannot be built (a missing required setting) ends the process with its reason.
  loading.catch(async (err: unknown) => {
    const { logStartFailure } = await import('./framework-host.ts');
    logStartFailure(name, (err as Error).message, err instanceof ConfigError ? { variable: err.variable } : {});
    process.exit(1);
  });

  const listener: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/liveness') return sendJson(res, 200, { status: 'ok', function: name });
    if (hosted) return hosted.listener(req, res);
    loading.then(
      (h) => h.listener(req, res),
      () => sendJson(res, 503, { status: 503, message: `${name} failed to start` }),
    );
  };
  const server = createServer(listener);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    if (!server.listening) process.exit(0);
    beginStopping();
    server.close(() => void (hosted?.close() ?? Promise.resolve()).finally(() => process.exit(0)));
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, resolve);
  }).catch(async (err: Error) => {
    const { logStartFailure } = await import('./framework-host.ts');
    logStartFailure(name, `cannot listen on port ${config.port}: ${err.message}`);
    process.exit(1);
  });
  // A failed load is reported (and ends the process) by the handler above.
  const h = await loading.catch(() => undefined);
  h?.log.info({ port: config.port }, `${name} listening on ${config.port}`);
}
