/**
 * The single HTTP entry of the local mode: routes each request to the function that owns its
 * path, exactly as the HTTPRoute does on Knative (knative/base/routing.yaml):
 * /api/integrations/* → webhook-ingest, /api/ingest/* → log-ingest, everything else → query-api
 * (the REST API and the web UI). Health routes answer for the whole process.
 */
import { withHealth, type Readiness } from '../../shared/http/health.ts';
import type { HttpHandler } from '../../shared/http/types.ts';

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
      if (req.path.startsWith('/api/integrations/')) return r.webhookIngest(req);
      if (req.path.startsWith('/api/ingest/')) return r.logIngest(req);
      return r.queryApi(req);
    },
    ready,
  );
}
