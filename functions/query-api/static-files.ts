/**
 * The built web UI (frontend/dist) served by query-api in local mode: a GET for a file under the
 * folder returns it; any other non-/api GET returns index.html so the single-page app's own
 * router handles the path. Paths are resolved inside the folder only. Content-hashed assets
 * are cached for a year (`immutable`); everything else (index.html) is revalidated on each use
 * (`no-cache`) by its ETag, answered 304 when unchanged. Compression is the node adapter's.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { BodyResponse } from '../../shared/http/types.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const etags = new Map<string, { mtimeMs: number; size: number; etag: string }>();

/** A file's bytes and a strong ETag (its SHA-1, remembered while its mtime and size stay). */
async function file(path: string): Promise<{ body: Buffer; etag: string } | undefined> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isFile()) return undefined;
  const body = await readFile(path);
  let known = etags.get(path);
  if (!known || known.mtimeMs !== s.mtimeMs || known.size !== s.size) {
    known = { mtimeMs: s.mtimeMs, size: s.size, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
    etags.set(path, known);
  }
  return { body, etag: known.etag };
}

const matches = (ifNoneMatch: string | undefined, etag: string): boolean => !!ifNoneMatch && (ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag));

function answer(f: { body: Buffer; etag: string }, type: string, cache: string, ifNoneMatch: string | undefined): BodyResponse {
  const headers = { 'content-type': type, 'cache-control': cache, etag: f.etag };
  return matches(ifNoneMatch, f.etag) ? { status: 304, headers } : { status: 200, headers, body: f.body };
}

/**
 * The response for GET `path` from `dir` (304 when `ifNoneMatch` names the current version),
 * or undefined when the folder has no index.html.
 */
export async function serveStatic(dir: string, path: string, ifNoneMatch?: string): Promise<BodyResponse | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = '/';
  }
  const root = normalize(dir + sep);
  const target = normalize(join(root, decoded));
  if (target.startsWith(root) && target !== root) {
    const found = await file(target);
    if (found) {
      // Vite puts content-hashed names under assets/: safe to cache forever.
      const cache = decoded.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
      return answer(found, TYPES[extname(target)] ?? 'application/octet-stream', cache, ifNoneMatch);
    }
  }
  const index = await file(join(root, 'index.html'));
  return index ? answer(index, TYPES['.html']!, 'no-cache', ifNoneMatch) : undefined;
}
