/** `GET /liveness` and `GET /readiness` for every function (Knative probes, load balancers). */
import { json, type HttpHandler } from './types.ts';

/** Answers the health routes itself and passes everything else to `handler`. */
export function withHealth(name: string, handler: HttpHandler, ready: () => Promise<boolean> = async () => true): HttpHandler {
  return async (req) => {
    if (req.method === 'GET' && req.path === '/liveness') return json(200, { status: 'ok', function: name });
    if (req.method === 'GET' && req.path === '/readiness') {
      const ok = await ready().catch(() => false);
      return json(ok ? 200 : 503, { status: ok ? 'ok' : 'not ready', function: name });
    }
    return handler(req);
  };
}

/** A handler built on first use (connections opened lazily after a cold start). */
export function lazyHandler(build: () => Promise<HttpHandler>): HttpHandler {
  let built: Promise<HttpHandler> | undefined;
  return async (req) => {
    built ??= build().catch((err) => {
      built = undefined; // try again on the next request
      throw err;
    });
    return (await built)(req);
  };
}
