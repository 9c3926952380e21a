/**
 * The HTTP shape every function handler speaks, independent of the server that hosts it
 * (functions-framework's express in production, one node:http server in the local mode, direct
 * calls in tests). Handlers are `(req) => Promise<HttpResponse>`; errors they throw become JSON
 * `{status, message}` in one place (`respond` in node-adapter.ts).
 */
import type { Writable } from 'node:stream';

export interface HttpRequest {
  method: string;
  /** Path without the query string, e.g. `/api/integrations/github/events`. */
  path: string;
  query: URLSearchParams;
  /** Lowercased header names. */
  headers: Record<string, string | undefined>;
  /** The body exactly as received (signatures are computed over it). */
  rawBody: Buffer;
  /** Aborted when the client goes away (long-lived responses stop on it). */
  signal: AbortSignal;
}

/** A JSON (or text) response. */
export interface BodyResponse {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  body?: unknown;
}

/**
 * A response written progressively (Server-Sent Events, plain-text logs): `stream` writes to
 * `out` — the response itself, or the compressor in front of it — honouring backpressure, and
 * resolves when done. `out.destroyed` turns true when the client has gone.
 */
export interface StreamResponse {
  status: number;
  headers?: Record<string, string>;
  stream: (out: Writable, signal: AbortSignal) => Promise<void>;
}

export type HttpResponse = BodyResponse | StreamResponse;
export type HttpHandler = (req: HttpRequest) => Promise<HttpResponse>;

/** A JSON response. */
export const json = (status: number, body: unknown, headers?: Record<string, string>): BodyResponse => ({ status, body, headers });
