/**
 * query-api: the REST API of docs/API.md for the web UI and CLI — pipelines, builds, releases,
 * their stages and logs (stored, searched, as plain text, and live over Server-Sent Events),
 * insights, manifest validate/encrypt, sign-in — plus, in local mode, the built UI. The routes
 * are in routes.ts; this is the edge every request passes: match the route (or serve the UI),
 * authenticate, authorize, refuse query parameters the route does not take, then run it.
 * Errors are thrown as HttpErrors and become JSON in the node adapter; nothing here catches and logs.
 */
import type pg from 'pg';
import { authenticate, authorize, type Principal } from '../../shared/auth/access.ts';
import type { AuthSettings } from '../../shared/auth/settings.ts';
import type { LiveLogs } from '../../shared/bus/live-logs.ts';
import { HttpError, ValidationError } from '../../shared/errors/http-error.ts';
import type { HttpHandler, HttpRequest } from '../../shared/http/types.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Publish } from '../../shared/runtime/runtime.ts';
import { refuseNul } from './params.ts';
import { Router, type Route } from './router.ts';
import { queryApiRoutes } from './routes.ts';
import { serveStatic } from './static-files.ts';

/** What the handler needs; no transport of its own. */
export interface QueryApiDeps {
  pool: pg.Pool;
  liveLogs: LiveLogs;
  publish: Publish;
  /** Sign-in and roles; `{ enabled: false }` in local mode (everyone is an administrator). */
  auth: AuthSettings;
  /** ESTAFETTE_SECRET_KEY for /api/manifest/encrypt (503 without it). */
  secretKey?: string;
  /** Folder of the built UI (frontend/dist) to serve for non-/api GETs, local mode only. */
  staticDir?: string;
  /** SSE ping interval in ms (default 15 000). */
  pingMs?: number;
  /** How long a rebuild or release waits to answer with the job it created (default 3000 ms; 0 = 202 at once). */
  createdWaitMs?: number;
  /** fetch for the OAuth provider calls (default global fetch). */
  fetch?: typeof fetch;
  /** Structured log lines (ids as fields). */
  log: Logger;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** 400 for a query parameter the route does not take (a typo must not silently widen a list). */
function refuseUnknownQuery(route: Route<Principal>, query: URLSearchParams): void {
  const allowed = route.query ?? [];
  for (const name of new Set(query.keys())) {
    if (allowed.includes(name)) continue;
    const takes = allowed.length ? `it takes ${allowed.join(', ')}` : 'it takes none';
    throw new ValidationError(`unknown query parameter '${name.slice(0, 60)}' for ${route.method} ${route.path} (${takes})`);
  }
}

/** The query-api handler. */
export function makeHandler(deps: QueryApiDeps): HttpHandler {
  const router = new Router(queryApiRoutes(deps));

  return async (req: HttpRequest) => {
    refuseNul(req.path, req.query);
    const matched = router.match(req.method, req.path);
    if (!matched) {
      if (deps.staticDir && (req.method === 'GET' || req.method === 'HEAD') && !req.path.startsWith('/api/') && req.path !== '/api') {
        const file = await serveStatic(deps.staticDir, req.path, req.headers['if-none-match']);
        if (file) return file;
      }
      throw new HttpError(404, `no route ${req.method} ${req.path}`);
    }
    const principal = await authenticate(req, deps.auth);
    const { route, params } = matched;
    if (route.role) {
      const mutating = (route.mutating ?? route.role !== 'viewer') && MUTATING.has(req.method);
      authorize(principal, req, route.role, mutating);
      // Without sign-in there is no cookie to ride on, but a cross-site form could still POST to a
      // local server: a JSON content type forces a CORS preflight, which this API never grants.
      if (mutating && principal.via === 'local' && req.method === 'POST' && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        throw new HttpError(415, 'send the body as application/json');
      }
    }
    refuseUnknownQuery(route, req.query);
    return route.handle({ req, params, principal });
  };
}
