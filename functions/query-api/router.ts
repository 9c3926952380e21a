/**
 * A small router: routes are `METHOD /path/:param` patterns with the role they need and the
 * query parameters they take; a match hands the decoded params to the route. A path that
 * matches with another method is 405.
 */
import { HttpError } from '../../shared/errors/http-error.ts';
import type { HttpRequest, HttpResponse } from '../../shared/http/types.ts';
import type { Role } from '../../shared/auth/roles.ts';

/** What a route receives. */
export interface RouteContext<P> {
  req: HttpRequest;
  params: Record<string, string>;
  principal: P;
}

/** One route: `role` null = public (sign-in routes, health). */
export interface Route<P> {
  method: string;
  path: string;
  role: Role | null;
  /** The query parameters it takes (exact names, e.g. `filter[status]`); any other is a 400. Default none. */
  query?: readonly string[];
  /** A POST/PUT/PATCH/DELETE that changes something even though a viewer may call it (CSRF and JSON checks apply); default: role above viewer. */
  mutating?: boolean;
  handle(ctx: RouteContext<P>): Promise<HttpResponse> | HttpResponse;
}

interface Compiled<P> extends Route<P> {
  regex: RegExp;
  names: string[];
}

/** Compiles routes once; `match` finds the route of a request or throws 404/405. */
export class Router<P> {
  private readonly routes: Compiled<P>[];

  constructor(routes: Route<P>[]) {
    this.routes = routes.map((r) => {
      const names: string[] = [];
      const source = r.path
        .split('/')
        .map((seg) => {
          if (!seg.startsWith(':')) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(seg.slice(1));
          return '([^/]+)';
        })
        .join('/');
      return { ...r, regex: new RegExp(`^${source}/?$`), names };
    });
  }

  /** The route and params for `method path`; undefined when no path matches. */
  match(method: string, path: string): { route: Route<P>; params: Record<string, string> } | undefined {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.regex.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        try {
          params[n] = decodeURIComponent(m[i + 1]!);
        } catch {
          throw new HttpError(400, `bad URL encoding in ${n}`);
        }
      });
      return { route: r, params };
    }
    if (pathMatched) throw new HttpError(405, `${method} not allowed on ${path}`);
    return undefined;
  }
}
