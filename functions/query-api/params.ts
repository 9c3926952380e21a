/**
 * Query-string and body parsing of query-api at the edge: Estafette's `filter[…]`, `page[…]` and
 * `sort` parameters become typed filters, and any bad value is a 400 naming the parameter.
 * Estafette's `all` (as in `filter[status]=all`, `filter[target]=all`) means no filter.
 */
import { ValidationError } from '../../shared/errors/http-error.ts';
import { readJsonObject } from '../../shared/http/json-body.ts';
import type { HttpRequest } from '../../shared/http/types.ts';
import { MAX_PAGE_SIZE, type SortField } from '../../shared/db/page.ts';
import { isJobStatus, JOB_STATUSES, type JobStatus } from '../../shared/status/status.ts';

/** `filter[since]` values and their length in ms (`eternity` = no bound). */
export const SINCE = { '1h': 3600e3, '1d': 86400e3, '1w': 7 * 86400e3, '1m': 30 * 86400e3, '1y': 365 * 86400e3, eternity: Infinity } as const;

/** All values of a parameter, repeated or comma-separated, without empties. */
export function values(q: URLSearchParams, name: string): string[] {
  return q
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}

/** A positive integer parameter (`min`…`max`), or `fallback` when absent. */
export function intParam(q: URLSearchParams, name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new ValidationError(`${name} must be an integer from ${min} to ${max}, got '${raw.slice(0, 40)}'`);
  return Number(raw);
}

/** `page[number]` and `page[size]` (default 20, at most 100). */
export function paging(q: URLSearchParams): { page: number; size: number } {
  return { page: intParam(q, 'page[number]', 1, 1, 1_000_000)!, size: intParam(q, 'page[size]', 20, 1, MAX_PAGE_SIZE)! };
}

/** `filter[status]`: job statuses (`all`: every status). */
export function statuses(q: URLSearchParams): JobStatus[] | undefined {
  const v = values(q, 'filter[status]');
  if (v.includes('all')) return undefined;
  for (const s of v) if (!isJobStatus(s)) throw new ValidationError(`filter[status] '${s.slice(0, 40)}' is not one of ${JOB_STATUSES.join(', ')}`);
  return v.length ? (v as JobStatus[]) : undefined;
}

/** `filter[since]` as a time, undefined for eternity or absent. */
export function since(q: URLSearchParams, now = Date.now()): Date | undefined {
  const raw = q.get('filter[since]');
  if (raw === null || raw === '') return undefined;
  if (!(raw in SINCE)) throw new ValidationError(`filter[since] must be one of ${Object.keys(SINCE).join(', ')}`);
  const ms = SINCE[raw as keyof typeof SINCE];
  return Number.isFinite(ms) ? new Date(now - ms) : undefined;
}

/** `filter[labels]`: `k=v` pairs, repeated or comma-separated. */
export function labels(q: URLSearchParams): Record<string, string> | undefined {
  const v = values(q, 'filter[labels]');
  if (!v.length) return undefined;
  const out: Record<string, string> = {};
  for (const pair of v) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new ValidationError(`filter[labels] '${pair.slice(0, 40)}' must look like key=value`);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** A boolean parameter (`true`/`false`). */
export function bool(q: URLSearchParams, name: string): boolean | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw !== 'true' && raw !== 'false') throw new ValidationError(`${name} must be true or false`);
  return raw === 'true';
}

/** A flag parameter: `1`/`true` or `0`/`false` (as `?ansi=1`). */
export function flag(q: URLSearchParams, name: string): boolean | undefined {
  const raw = q.get(name);
  if (raw === null) return undefined;
  if (raw === '' || raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw new ValidationError(`${name} must be 1 or 0`);
}

/** `sort` of the pipelines list (our own vocabulary; see `sortOrder` for Estafette's). */
export function pipelineSort(q: URLSearchParams): '-lastBuild' | 'name' {
  const raw = q.get('sort') ?? '-lastBuild';
  if (raw !== '-lastBuild' && raw !== 'name') throw new ValidationError(`sort must be -lastBuild or name`);
  return raw;
}

/**
 * `sort` in Estafette's (JSON:API) form: comma-separated field names in snake_case, each with an
 * optional `-` for descending (`-last_updated_at,repo_source,repo_owner,repo_name`). `fields` maps
 * each accepted name to its column, or to a whole order (aliases such as our `-lastBuild`, listed
 * with their sign). Undefined when absent; any other name is a 400 listing the accepted ones.
 */
export function sortOrder(q: URLSearchParams, fields: Record<string, string | SortField[]>): SortField[] | undefined {
  const raw = q.get('sort');
  if (raw === null || raw.trim() === '') return undefined;
  const order: SortField[] = [];
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const alias = fields[part];
    if (Array.isArray(alias)) {
      order.push(...alias);
      continue;
    }
    const descending = part.startsWith('-');
    const column = fields[part.replace(/^-/, '')];
    if (typeof column !== 'string') {
      const names = Object.keys(fields);
      throw new ValidationError(`sort '${part.slice(0, 40)}' is not one of ${names.join(', ')} (a - before a field sorts descending)`);
    }
    order.push({ column, descending });
  }
  return order.length ? order : undefined;
}

/** A filter value where Estafette's `all` means no filter (`filter[target]`, `filter[branch]`). */
export function filterText(q: URLSearchParams, name: string, max = 200): string | undefined {
  const v = text(q, name, max);
  return v === 'all' ? undefined : v;
}

/** A string parameter with a length cap. */
export function text(q: URLSearchParams, name: string, max = 200): string | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw.length > max) throw new ValidationError(`${name} is longer than ${max} characters`);
  return raw;
}

/**
 * A JSON object body, read by shared/http/json-body.ts: 413, 415 for a content type that is not
 * JSON, 400 otherwise. Given the request (or only its body, then without the content-type check).
 */
export function jsonBody(req: Pick<HttpRequest, 'rawBody' | 'headers'> | Buffer): Record<string, unknown> {
  return readJsonObject(Buffer.isBuffer(req) ? { rawBody: req, headers: {} } : req);
}

/** A required non-empty string field of a body (no NUL: nothing stored or passed on can hold one). */
export function field(body: Record<string, unknown>, name: string, max = 1000): string {
  const v = body[name];
  if (typeof v !== 'string' || !v.trim()) throw new ValidationError(`${name} is required (a non-empty string)`);
  if (v.length > max) throw new ValidationError(`${name} is longer than ${max} characters`);
  if (v.includes('\u0000')) throw new ValidationError(`${name} contains a NUL character`);
  return v;
}

const shown = (name: string): string => JSON.stringify(name.replaceAll('\u0000', '\\0').slice(0, 40));

/**
 * Throws 400 when the path (raw or percent-encoded) or any query parameter name or value holds a
 * NUL character: PostgreSQL TEXT cannot hold one, and no name in this API has one.
 */
export function refuseNul(path: string, q: URLSearchParams): void {
  if (path.includes('\u0000') || /%00/i.test(path)) throw new ValidationError('the path contains a NUL character');
  for (const [k, v] of q) {
    if (k.includes('\u0000') || v.includes('\u0000')) throw new ValidationError(`query parameter ${shown(k)} contains a NUL character`);
  }
}

/** An optional string field of a body. */
export function optionalField(body: Record<string, unknown>, name: string, max = 1000): string | undefined {
  return body[name] === undefined || body[name] === null || body[name] === '' ? undefined : field(body, name, max);
}
