/**
 * The CLI's client of query-api (docs/API.md): JSON GETs and the log stream, signed in as an API
 * client when ESTAFETTE_CLIENT_ID/SECRET are set (`POST /api/auth/client/login` → bearer token,
 * fetched on first use and again when it expires). Every failure becomes an ApiError with a
 * message fit for the terminal: the server's own `message`, or what to set when sign-in is on
 * or the server cannot be reached. The token never appears in a message.
 */
import { safeUrl } from '../../shared/log/logger.ts';

/** A request that failed; `status` 0 when the server was not reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClientOptions {
  /** An API client of the server's ESTAFETTE_AUTH. */
  client?: { id: string; secret: string };
  fetch?: typeof fetch;
}

/** What the commands use. */
export interface ApiClient {
  /** The server's base URL (no trailing slash). */
  readonly url: string;
  /** GET `path` (from `/api/…`) as JSON. */
  get<T>(path: string, query?: Record<string, string | number | string[] | undefined>): Promise<T>;
  /** GET `path` with extra headers, for streams; resolves once the response status is known (2xx only). */
  open(path: string, headers?: Record<string, string>, signal?: AbortSignal): Promise<Response>;
}

/** The `message` of an error answer (`{status, message}`), else the status text. */
async function errorText(res: Response): Promise<string> {
  const body = (await res.json().catch(() => undefined)) as { message?: unknown } | undefined;
  return typeof body?.message === 'string' ? body.message : `${res.status} ${res.statusText}`.trim();
}

/** A client of the server at `baseUrl`. */
export function apiClient(baseUrl: string, options: ApiClientOptions = {}): ApiClient {
  const url = baseUrl.replace(/\/+$/, '');
  const shown = safeUrl(url);
  const fetchFn = options.fetch ?? fetch;
  let token: Promise<string | undefined> | undefined;

  const send = async (path: string, init: RequestInit): Promise<Response> => {
    try {
      return await fetchFn(`${url}${path}`, init);
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiError(0, `cannot reach ${shown}: ${cause?.code ?? cause?.message ?? (err as Error).message} (is 'estafette start' running? ESTAFETTE_URL names any other server)`);
    }
  };

  const login = async (): Promise<string | undefined> => {
    const c = options.client;
    if (!c) return undefined;
    const res = await send('/api/auth/client/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: c.id, clientSecret: c.secret }),
    });
    if (res.status === 404) return undefined; // sign-in is off: no token needed
    if (!res.ok) throw new ApiError(res.status, `${shown} refused the API client ESTAFETTE_CLIENT_ID=${c.id}: ${await errorText(res)}`);
    const body = (await res.json()) as { token?: unknown };
    if (typeof body.token !== 'string') throw new ApiError(res.status, `${shown} answered the client login without a token`);
    return body.token;
  };

  const request = async (path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      const bearer = await (token ??= login().catch((err) => {
        token = undefined;
        throw err;
      }));
      const res = await send(path, { headers: { accept: 'application/json', ...headers, ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) }, ...(signal ? { signal } : {}) });
      if (res.ok) return res;
      if (res.status === 401 && bearer && attempt === 0) {
        token = undefined; // expired (sessions last 8 h): sign in again once
        continue;
      }
      if (res.status === 401 && !options.client) {
        throw new ApiError(401, `${shown} has sign-in on: set ESTAFETTE_CLIENT_ID and ESTAFETTE_CLIENT_SECRET to an API client of its ESTAFETTE_AUTH`);
      }
      throw new ApiError(res.status, await errorText(res));
    }
  };

  return {
    url,
    async get<T>(path: string, query: Record<string, string | number | string[] | undefined> = {}): Promise<T> {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) q.append(k, String(one));
      const res = await request(`${path}${q.size ? `?${q}` : ''}`, {});
      return (await res.json()) as T;
    },
    open: (path, headers = {}, signal) => request(path, headers, signal),
  };
}
