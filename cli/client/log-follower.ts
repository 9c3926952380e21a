/**
 * Follows a job's log over the same Server-Sent Events endpoint the web UI uses
 * (`…/builds/:id/logs.stream`, docs/API.md): `log` events carry a LogLine with `id: <seq>`,
 * `status` events a StatusReport, `close` the final status once every line was sent. A stream
 * that ends without `close` (Knative ends long requests at its timeout, a proxy drops an idle
 * one) is reopened with `Last-Event-ID` set to the last seq seen, after the server's `retry:`
 * delay, so each line is handed on exactly once. Consecutive failures to reconnect give up.
 */
import type { LogLine, StatusReport } from '../../shared/logs/protocol.ts';
import { isJobStatus, type JobStatus } from '../../shared/status/status.ts';
import { ApiError, type ApiClient } from './api-client.ts';

/** One event of a text/event-stream. */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
  /** A `retry:` field (reconnection delay in ms) seen with this event. */
  retry?: number;
}

/** Parses a text/event-stream body into events (the WHATWG rules: fields, comments, blank-line dispatch). */
export async function* readSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buf = '';
  let event: SseEvent = { event: 'message', data: '' };
  let hasData = false;
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (hasData || event.retry !== undefined) yield event;
        event = { event: 'message', data: '' };
        hasData = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event.event = value;
      else if (field === 'id') event.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) event.retry = Number(value);
      else if (field === 'data') {
        event.data = hasData ? `${event.data}\n${value}` : value;
        hasData = true;
      }
    }
  }
}

export interface FollowOptions {
  /** Called for every line, in seq order, once each. */
  onLine(line: LogLine): void | Promise<void>;
  /** Called for every status event. */
  onStatus?(report: StatusReport): void;
  /** Resume after this seq (default -1: from the start). */
  afterSeq?: number;
  /** Reconnection delay before the server sent one (ms, default 2000). */
  retryMs?: number;
  /** Consecutive failed reconnections before giving up (default 5). */
  maxFailures?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Follows `streamPath` until the server sends `close`; resolves to the job's final status (null when the job is gone). */
export async function followLog(api: ApiClient, streamPath: string, o: FollowOptions): Promise<JobStatus | null> {
  let last = o.afterSeq ?? -1;
  let retryMs = o.retryMs ?? 2000;
  let failures = 0;
  const maxFailures = o.maxFailures ?? 5;
  for (;;) {
    if (o.signal?.aborted) throw new ApiError(0, 'stopped');
    let lost: string;
    try {
      const res = await api.open(streamPath, { accept: 'text/event-stream', ...(last >= 0 ? { 'last-event-id': String(last) } : {}) }, o.signal);
      for await (const e of readSse(res.body!)) {
        if (e.retry !== undefined) retryMs = e.retry;
        // Any real event (a ping included) shows the connection works; a bare `retry:` does not.
        if (e.event !== 'message') failures = 0;
        if (e.event === 'log') {
          // Estafette's TailLogLine with our line's fields beside it: keep ours.
          const { seq, stage, run, time, stream, text } = JSON.parse(e.data) as LogLine;
          if (typeof seq !== 'number') continue; // a step event for Estafette's clients, not a line
          const line: LogLine = { seq, stage, run, time, stream, text };
          if (line.seq <= last) continue; // already handed on before a reconnection
          await o.onLine(line);
          last = line.seq;
        } else if (e.event === 'status') o.onStatus?.(JSON.parse(e.data) as StatusReport);
        else if (e.event === 'close') {
          const status = (JSON.parse(e.data) as { status?: unknown }).status;
          return isJobStatus(status) ? status : null;
        }
      }
      lost = 'the stream ended before the build did';
    } catch (err) {
      if (o.signal?.aborted) throw new ApiError(0, 'stopped');
      // The server answered with an error (404, 401, …): reconnecting would not change that.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) throw err;
      lost = (err as Error).message;
    }
    if (++failures > maxFailures) throw new ApiError(0, `lost the log stream: ${lost} (gave up after ${maxFailures} attempts to reconnect)`);
    await sleep(retryMs, o.signal);
  }
}
