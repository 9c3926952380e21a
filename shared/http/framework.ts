/**
 * Registers a function's HttpHandler with @google-cloud/functions-framework (the way every
 * function runs on Knative). The framework has already read the body into `req.rawBody`; the
 * node adapter turns our handler's answers and errors into HTTP.
 */
import { http } from '@google-cloud/functions-framework';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeListener, type AdapterOptions } from './node-adapter.ts';
import type { HttpHandler } from './types.ts';
import { withHealth } from './health.ts';

/** Registers `handler` (plus /liveness and /readiness) as functions-framework target `name`. */
export function registerFunction(name: string, handler: HttpHandler, options: Partial<AdapterOptions> = {}): void {
  const listener = toNodeListener(withHealth(name, handler), options);
  http(name, (req, res) => void listener(req as unknown as IncomingMessage, res as unknown as ServerResponse));
}
