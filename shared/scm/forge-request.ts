/**
 * One HTTP request to a forge API, bounded in time, with every failure turned into an ScmError
 * that keeps its cause: the forge's status and message (`answered 401: Bad credentials`), or
 * why no answer came (`getaddrinfo ENOTFOUND api.github.com`, `timed out after 5000 ms`). The
 * URL in a message never carries credentials (they travel in headers only).
 */
import { ScmError } from './provider.ts';

/** A request as the forge clients build it (pure data, so tests can check it against a contract). */
export interface ForgeRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  /** JSON body. */
  body?: unknown;
}

/** Why fetch failed, from its cause chain: `getaddrinfo ENOTFOUND host`, `connect ECONNREFUSED …`. */
function fetchFailure(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: unknown; name?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  // fetch says only "fetch failed"; the reason is down its cause chain (the system error if any).
  let cur: unknown = e;
  let text = e?.message ?? String(err);
  let coded = false;
  for (let depth = 0; cur && depth < 4; depth++) {
    const c = cur as { message?: string; code?: string; cause?: unknown };
    if (c.message && (c.code || !coded) && depth > 0) {
      text = c.message;
      coded = Boolean(c.code);
    }
    cur = c.cause;
  }
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

/** The forge's own words for a failed answer (`message` of a JSON body, else the text start). */
async function answerText(res: Response): Promise<string> {
  const text = (await res.text().catch(() => '')).trim();
  try {
    const j = JSON.parse(text) as { message?: unknown; error?: unknown; errors?: unknown };
    const m = j.message ?? (typeof j.error === 'object' && j.error !== null ? (j.error as { message?: unknown }).message : j.error);
    if (typeof m === 'string' && m) return m.slice(0, 200);
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

/** The request's URL without its query, for messages. */
const where = (r: ForgeRequest): string => `${r.method} ${r.url.split('?')[0]}`;

/**
 * Sends `r`; resolves with the response when it is 2xx or one of `accept`, else throws ScmError
 * (`status` = the forge's, 0 without an answer).
 */
export async function forgeFetch(provider: string, r: ForgeRequest, timeoutMs: number, accept: readonly number[] = []): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(r.url, {
      method: r.method,
      headers: { 'user-agent': 'estafette-knative', ...r.headers, ...(r.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'follow',
    });
  } catch (err) {
    throw new ScmError(provider, 0, `${where(r)} failed: ${fetchFailure(err, timeoutMs)}`);
  }
  if (res.ok || accept.includes(res.status)) return res;
  const text = await answerText(res);
  throw new ScmError(provider, res.status, `${where(r)} answered ${res.status}${text ? `: ${text}` : ''}`);
}
