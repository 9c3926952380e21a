/**
 * fetch() for `/api`: JSON in and out, and one error type carrying the server's
 * `{status, message}` so every page can show the problem in place.
 */

/** An API failure: `status` 0 means the server could not be reached at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Calls `path` (starting with /api) and resolves to its JSON body; throws ApiError otherwise. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      // X-Requested-With: query-api's CSRF check lets cookie-authenticated changes through only with it.
      headers: {
        accept: 'application/json',
        'x-requested-with': 'estafette-web',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      credentials: 'same-origin',
      signal: init.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'Cannot reach the Estafette API. Is the server running?');
  }
  const text = await res.text();
  let body: unknown;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      // A proxy error page or similar: report the HTTP status rather than a parse error.
      if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText || 'error'} from ${path}`);
      throw new ApiError(res.status, `The API answered ${path} with something that is not JSON.`);
    }
  }
  if (!res.ok) {
    const message = typeof (body as { message?: unknown })?.message === 'string' ? (body as { message: string }).message : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message);
  }
  return body as T;
}

/** The API path of one pipeline: `/api/pipelines/<source>/<owner>/<repo>`. */
export const pipelinePath = (p: { repoSource: string; repoOwner: string; repoName: string }): string =>
  `/api/pipelines/${encodeURIComponent(p.repoSource)}/${encodeURIComponent(p.repoOwner)}/${encodeURIComponent(p.repoName)}`;

/** Builds a query string from pairs, skipping empty values; keys like `filter[status]` stay readable. */
export function query(pairs: Array<[string, string | number | undefined | null]>): string {
  const parts = pairs.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}
