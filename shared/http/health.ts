/**
 * The operational routes every function host answers itself: `GET /liveness` and
 * `GET /readiness` (Knative probes, load balancers) and `GET /metrics` (Prometheus scrapes,
 * shared/metrics/metrics.ts).
 */
import { METRICS_CONTENT_TYPE, metricsText } from '../metrics/metrics.ts';
import { json, type HttpHandler } from './types.ts';

/** Whether a function (or one of its dependencies) can serve requests now, and if not, why. */
export type Readiness = { ok: true } | { ok: false; reason: string };

/** Ready when every check is; otherwise the reasons of those that are not, joined. */
export async function allReady(checks: Array<() => Promise<Readiness>>): Promise<Readiness> {
  const results = await Promise.all(checks.map((c) => c().catch((err: unknown): Readiness => ({ ok: false, reason: String((err as Error)?.message ?? err) }))));
  const reasons = results.flatMap((r) => (r.ok ? [] : [r.reason]));
  return reasons.length ? { ok: false, reason: reasons.join('; ') } : { ok: true };
}

/** True for the routes `withHealth` answers (they are not traced: probes would drown the traces). */
export const isOperationalRoute = (method: string, path: string): boolean => method === 'GET' && (path === '/liveness' || path === '/readiness' || path === '/metrics');

/**
 * Answers the operational routes itself and passes everything else to `handler`. Liveness says
 * the process serves HTTP; readiness runs `ready` and answers 503 with its reason when it fails;
 * metrics are this process's registry in Prometheus text format.
 */
export function withHealth(name: string, handler: HttpHandler, ready: () => Promise<Readiness> = async () => ({ ok: true })): HttpHandler {
  return async (req) => {
    if (req.method === 'GET' && req.path === '/liveness') return json(200, { status: 'ok', function: name });
    if (req.method === 'GET' && req.path === '/readiness') {
      const r = await ready().catch((err: unknown): Readiness => ({ ok: false, reason: String((err as Error)?.message ?? err) }));
      return r.ok ? json(200, { status: 'ok', function: name }) : json(503, { status: 'not ready', function: name, reason: r.reason });
    }
    if (req.method === 'GET' && req.path === '/metrics') return { status: 200, headers: { 'content-type': METRICS_CONTENT_TYPE }, body: await metricsText() };
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
