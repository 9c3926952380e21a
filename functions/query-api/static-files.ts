/**
 * The built web UI (frontend/dist) served by query-api in local mode: a GET for a file under the
 * folder returns it; any other non-/api GET returns index.html so the single-page app's own
 * router handles the path. Paths are resolved inside the folder only.
 */
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

async function file(path: string): Promise<Buffer | undefined> {
  const s = await stat(path).catch(() => undefined);
  return s?.isFile() ? readFile(path) : undefined;
}

/** The response for GET `path` from `dir`, or undefined when the folder has no index.html. */
export async function serveStatic(dir: string, path: string): Promise<BodyResponse | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = '/';
  }
  const root = normalize(dir + sep);
  const target = normalize(join(root, decoded));
  if (target.startsWith(root) && target !== root) {
    const body = await file(target);
    if (body) {
      // Vite puts content-hashed names under assets/: safe to cache forever.
      const cache = decoded.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
      return { status: 200, headers: { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream', 'cache-control': cache }, body };
    }
  }
  const index = await file(join(root, 'index.html'));
  return index ? { status: 200, headers: { 'content-type': TYPES['.html']!, 'cache-control': 'no-cache' }, body: index } : undefined;
}
