/**
 * Runs an HttpHandler on node:http request/response objects — those of a plain node server or
 * of functions-framework's express (which has already read the body into `req.rawBody`). This is
 * the one place where thrown errors become HTTP answers: HttpError → its status and message;
 * anything else → 500 "internal error", logged once without the request body. Responses are
 * compressed here too (compression.ts), once for every function. Each request but
 * the operational routes runs in a server span continuing the caller's `traceparent` (the
 * builder's reports, a Knative delivery) or starting a trace (a forge's webhook), so everything
 * logged and published while answering it carries that trace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanStatusCode } from '@opentelemetry/api';
import { HttpError, toHttpResponse } from '../errors/http-error.ts';
import { codingFor, createCompressor, encodedHeaders, withVary } from './compression.ts';
import type { HttpHandler, HttpRequest, HttpResponse } from './types.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { continueTrace, FUNCTION_ATTRIBUTE } from '../trace/tracing.ts';
import { isOperationalRoute } from './health.ts';

export interface AdapterOptions {
  /** Bodies larger than this are refused with 413 before the handler runs. */
  maxBodyBytes: number;
  /** Where one line per error goes. */
  log: Logger;
  /** The function served (span attribute); the local mode's router names each request's function itself. */
  name?: string;
}

const DEFAULTS: AdapterOptions = { maxBodyBytes: 25 * 1024 * 1024, log: createLogger() };

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const pre = (req as IncomingMessage & { rawBody?: unknown }).rawBody;
  if (Buffer.isBuffer(pre)) {
    if (pre.length > max) throw new HttpError(413, `body larger than ${max} bytes`);
    return pre;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw new HttpError(413, `body larger than ${max} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError(413, `body larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function headersOf(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * Writes a handler's response, compressed (br or gzip, see compression.ts) when the request's
 * `acceptEncoding` allows and the response is worth it — bodies and streams alike, so every
 * function gets the same behaviour from this one place.
 */
async function respond(res: ServerResponse, r: HttpResponse, signal: AbortSignal, acceptEncoding?: string): Promise<void> {
  if ('stream' in r) {
    const headers = r.headers ?? {};
    const coding = codingFor(acceptEncoding, r.status, headers);
    if (!coding) {
      res.writeHead(r.status, withVary(headers));
      await r.stream(res, signal);
      if (!res.writableEnded) res.end();
      return;
    }
    res.writeHead(r.status, encodedHeaders(headers, coding));
    const type = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
    const z = createCompressor(coding, { flushEachWrite: /^text\/event-stream/i.test(type) });
    z.pipe(res);
    // A viewer that goes away stops the compressor, so the stream sees `destroyed` and ends.
    const stop = () => z.destroy();
    res.once('close', stop);
    try {
      await r.stream(z, signal);
    } finally {
      res.off('close', stop);
      if (!z.destroyed && !z.writableEnded) z.end();
    }
    return;
  }
  const headers = { ...(r.headers ?? {}) };
  let payload: string | Buffer | undefined;
  if (r.body === undefined || r.body === null) payload = undefined;
  else if (typeof r.body === 'string' || Buffer.isBuffer(r.body)) payload = r.body;
  else {
    payload = JSON.stringify(r.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  const size = payload === undefined ? 0 : Buffer.byteLength(payload);
  const coding = payload === undefined ? undefined : codingFor(acceptEncoding, r.status, headers, size);
  if (!coding) {
    res.writeHead(r.status, payload === undefined ? headers : withVary(headers));
    res.end(payload);
    return;
  }
  res.writeHead(r.status, encodedHeaders(headers, coding));
  const z = createCompressor(coding, { sizeHint: size });
  z.pipe(res);
  res.once('close', () => z.destroy());
  z.end(payload);
}

/** Turns a handler into a node request listener. */
export function toNodeListener(handler: HttpHandler, options: Partial<AdapterOptions> = {}) {
  const o = { ...DEFAULTS, ...options };
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    if (isOperationalRoute(method, url.pathname)) {
      await serve(req, res, url);
      return;
    }
    const traceparent = req.headers.traceparent ?? req.headers['ce-traceparent'];
    const attributes = { 'http.request.method': method, 'url.path': url.pathname, ...(o.name ? { [FUNCTION_ATTRIBUTE]: o.name } : {}) };
    await continueTrace(`${method} ${url.pathname.replace(/\/\d+(?=\/|$)/g, '/{id}')}`, traceparent, { kind: 'server', attributes }, async (span) => {
      const status = await serve(req, res, url);
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    });
  };

  /** Answers one request; resolves to the status sent. */
  async function serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<number> {
    const abort = new AbortController();
    // Only a client that leaves before the answer is complete aborts (an abort per finished
    // request would cost a DOMException each on the hot path).
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let response: HttpResponse;
    try {
      const request: HttpRequest = {
        method: (req.method ?? 'GET').toUpperCase(),
        path: originalPath(req) ?? url.pathname,
        query: url.searchParams,
        headers: headersOf(req),
        rawBody: await readBody(req, o.maxBodyBytes),
        signal: abort.signal,
      };
      response = await handler(request);
    } catch (err) {
      const { status, body } = toHttpResponse(err);
      const fields = { method: req.method, path: url.pathname, status };
      if (status >= 500) o.log.error({ ...fields, error: describe(err) }, `${req.method} ${url.pathname} → ${status}`);
      else o.log.info({ ...fields, reason: body.message }, `${req.method} ${url.pathname} → ${status} ${body.message}`);
      response = { status, body };
    }
    try {
      await respond(res, response, abort.signal, headerValue(req.headers['accept-encoding']));
    } catch (err) {
      o.log.warn({ method: req.method, path: url.pathname, error: describe(err) }, 'response failed');
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
      return 500;
    }
    return response.status;
  }
}

/** The path functions-framework's express saw before its routing rewrote `req.url`. */
const originalPath = (req: IncomingMessage): string | undefined => {
  const original = (req as IncomingMessage & { originalUrl?: unknown }).originalUrl;
  return typeof original === 'string' && original ? new URL(original, 'http://localhost').pathname : undefined;
};

const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(', ') : v);

const describe = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
