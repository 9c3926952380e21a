/**
 * The heavy half of a function's Knative entry, loaded by serve.ts right after the port is
 * bound: the logger, the Runtime, the function's composition root and functions-framework, which
 * handles every request but /liveness. It registers the function's handler (plus /readiness)
 * with the framework and hands back the framework's express app as a request listener, with
 * what the framework's CLI lacks: a JSON answer for bodies its parsers reject (otherwise an HTML
 * page with a stack trace). With OTEL_EXPORTER_OTLP_ENDPOINT set it starts exporting spans
 * before the function serves, and flushes them when it stops.
 */
import { http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Config } from '../config/config.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { Runtime } from '../runtime/runtime.ts';
import { startTracingIfConfigured } from '../trace/tracing.ts';
import type { Wire, WiredFunction } from '../runtime/wired-function.ts';
import type { FunctionName } from './functions.ts';
import { withHealth } from './health.ts';
import { toNodeListener } from './node-adapter.ts';

type ErrorMiddleware = (err: { status?: number; statusCode?: number; type?: string }, req: IncomingMessage, res: ServerResponse, next: () => void) => void;

// Four parameters: express recognises error middleware by its arity.
const jsonErrors: ErrorMiddleware = (err, _req, res, _next) => {
  const status = err.status ?? err.statusCode ?? 500;
  const message = status === 400 ? 'body is not valid JSON' : status === 413 ? 'body too large' : 'internal error';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ status, message }));
};

/** A function registered with functions-framework: its express app, and how to stop it. */
export interface HostedFunction {
  listener: RequestListener;
  log: Logger;
  close(): Promise<void>;
}

/** Registers `fn` (plus the health routes) with functions-framework; returns its express app. */
function frameworkListener(fn: WiredFunction, log: Logger): RequestListener {
  const listener = toNodeListener(withHealth(fn.name, fn.http, fn.ready), { maxBodyBytes: fn.maxBodyBytes, log, name: fn.name });
  http(fn.name, (req, res) => void listener(req as unknown as IncomingMessage, res as unknown as ServerResponse));
  // The express app is the framework server's request listener; an error middleware added last
  // catches body-parser failures before the framework's default HTML error page.
  const app = getTestServer(fn.name).listeners('request')[0] as RequestListener & { use(mw: ErrorMiddleware): void };
  app.use(jsonErrors);
  return app;
}

/** Builds function `name` from `config` with its composition root and hosts it on the framework. */
export async function hostFunction(name: FunctionName, wire: Wire, config: Config): Promise<HostedFunction> {
  const log = createLogger({ name, level: config.logLevel });
  const runtime = new Runtime(config, log);
  const fn = wire(runtime);
  const stopTracing = await startTracingIfConfigured(config.otlpEndpoint, name);
  const listener = frameworkListener(fn, log);
  fn.warm?.();
  return {
    listener,
    log,
    close: async () => {
      await runtime.close();
      await stopTracing();
    },
  };
}

/** Logs a start-up failure as one structured line. */
export function logStartFailure(name: FunctionName, message: string, fields: Record<string, unknown> = {}): void {
  createLogger({ name }).fatal(fields, message);
}
