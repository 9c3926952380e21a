/**
 * Response compression, decided once for every function in `respond` (node-adapter.ts): which
 * coding a request accepts (`Accept-Encoding` with q-values; brotli preferred over gzip at equal
 * weight), which responses are worth compressing (text-like content types, bodies of at least
 * 1 KiB, anything streamed), and the compressor for a response. Server-Sent Events are
 * compressed with a flush after every write, so each event still reaches the viewer at once.
 */
import { constants, createBrotliCompress, createGzip, type BrotliCompress, type Gzip } from 'node:zlib';

/** The codings this server produces. */
const CODINGS = ['br', 'gzip'] as const;
export type Coding = (typeof CODINGS)[number];

/** Bodies smaller than this go out as they are: compressing them saves nothing worth the CPU. */
const MIN_COMPRESS_BYTES = 1024;

/** Brotli quality for responses made on the fly: close to gzip's speed, smaller output. */
const BROTLI_QUALITY = 4;

/**
 * The coding to answer with for an `Accept-Encoding` header, or undefined for identity. The
 * highest q wins; at equal q brotli wins; `*` stands for codings not named; q=0 refuses.
 */
function negotiateCoding(acceptEncoding: string | undefined): Coding | undefined {
  if (!acceptEncoding) return undefined;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (Number.isFinite(q)) weights.set(name, q);
  }
  const weight = (c: Coding) => weights.get(c) ?? (c === 'gzip' ? weights.get('x-gzip') : undefined) ?? weights.get('*') ?? 0;
  let best: Coding | undefined;
  for (const c of CODINGS) if (weight(c) > 0 && (best === undefined || weight(c) > weight(best))) best = c;
  return best;
}

/** True for content types that compress well (text, JSON, JavaScript, SVG, event streams). */
function isCompressible(contentType: string | undefined): boolean {
  if (!contentType) return false;
  return /^\s*(text\/|application\/(json|javascript|xml|manifest\+json|[\w.+-]+\+json)|image\/svg\+xml)/i.test(contentType);
}

/**
 * The coding for a response with these headers and status, or undefined to send it as it is:
 * only successful and error answers with a body of a compressible type, not already encoded,
 * not marked `no-transform`, and (for bodies) not smaller than MIN_COMPRESS_BYTES.
 */
export function codingFor(acceptEncoding: string | undefined, status: number, headers: Record<string, string>, bodyBytes?: number): Coding | undefined {
  if (status < 200 || status === 204 || status === 304) return undefined;
  if (bodyBytes !== undefined && bodyBytes < MIN_COMPRESS_BYTES) return undefined;
  const h = lowerKeys(headers);
  if (h['content-encoding'] || /no-transform/i.test(h['cache-control'] ?? '')) return undefined;
  if (!isCompressible(h['content-type'])) return undefined;
  return negotiateCoding(acceptEncoding);
}

/** `headers` plus `content-encoding` and `Vary: Accept-Encoding` (merged with any Vary already there). */
export function encodedHeaders(headers: Record<string, string>, coding: Coding): Record<string, string> {
  const out: Record<string, string> = {};
  let vary = '';
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'vary') vary = v;
    else if (k.toLowerCase() !== 'content-length') out[k] = v;
  }
  out['content-encoding'] = coding;
  out.vary = vary ? (/accept-encoding/i.test(vary) ? vary : `${vary}, Accept-Encoding`) : 'Accept-Encoding';
  return out;
}

/** `Vary: Accept-Encoding` for a compressible response sent uncompressed (caches must not reuse it for other clients). */
export function withVary(headers: Record<string, string>): Record<string, string> {
  const h = lowerKeys(headers);
  if (!isCompressible(h['content-type'])) return headers;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === 'vary');
  if (key && /accept-encoding/i.test(headers[key]!)) return headers;
  const out = { ...headers };
  if (key) out[key] = `${headers[key]}, Accept-Encoding`;
  else out.vary = 'Accept-Encoding';
  return out;
}

/**
 * A compressor for `coding`. `flushEachWrite` makes every write come out at once (for event
 * streams); otherwise output is produced in efficient blocks. `sizeHint` helps brotli size its window.
 */
export function createCompressor(coding: Coding, opts: { flushEachWrite?: boolean; sizeHint?: number } = {}): Gzip | BrotliCompress {
  if (coding === 'gzip') return createGzip({ level: 6, ...(opts.flushEachWrite ? { flush: constants.Z_SYNC_FLUSH } : {}) });
  return createBrotliCompress({
    ...(opts.flushEachWrite ? { flush: constants.BROTLI_OPERATION_FLUSH } : {}),
    params: {
      [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      ...(opts.sizeHint ? { [constants.BROTLI_PARAM_SIZE_HINT]: opts.sizeHint } : {}),
    },
  });
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}
