/**
 * The single HTTP entry of the local mode: routes each request to the function that owns its
 * path, exactly as the HTTPRoute does on Knative (knative/base/routing.yaml):
 * /api/integrations/* → webhook-ingest, /api/ingest/* → log-ingest, everything else → query-api
 * (the REST API and the web UI). Health routes answer for the whole process; the request's span
 * is labelled with the function that answers it.
 */
import { withHealth, type Readiness } from '../../shared/http/health.ts';
import type { HttpHandler, HttpRequest } from '../../shared/http/types.ts';
import { FUNCTION_ATTRIBUTE, setSpanAttributes } from '../../shared/trace/tracing.ts';

const served = (name: string, handler: HttpHandler, req: HttpRequest) => {
  setSpanAttributes({ [FUNCTION_ATTRIBUTE]: name });
  return handler(req);
};

export interface Routes {
  webhookIngest: HttpHandler;
  logIngest: HttpHandler;
  queryApi: HttpHandler;
}

/** One handler for the whole system; `ready` answers /readiness for all functions at once. */
export function routeFunctions(r: Routes, ready?: () => Promise<Readiness>): HttpHandler {
  return withHealth(
    'estafette',
    async (req) => {
      if (req.path.startsWith('/api/integrations/')) return served('webhook-ingest', r.webhookIngest, req);
      if (req.path.startsWith('/api/ingest/')) return served('log-ingest', r.logIngest, req);
      return served('query-api', r.queryApi, req);
    },
    ready,
  );
}
