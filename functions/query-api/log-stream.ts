/**
 * The `…/logs.stream` Server-Sent Events response. It subscribes to the job's live logs FIRST,
 * then sends the stored lines after Last-Event-ID, then forwards live lines — each line exactly
 * once, in seq order: a live line at or below the last sent seq is dropped, a live line after a
 * gap makes it read the missing range from the database (lines are stored before they are
 * published). Every log event carries `id: <seq>` so a reconnecting EventSource resumes exactly;
 * status messages become `event: status`; a ping goes out every 15 s (and re-reads the job's
 * status, for jobs ended by something other than log-ingest); `event: close` follows once the
 * job is final and all its stored lines were sent. When the instance stops (SIGTERM), the stream
 * ends with `event: reconnect` and a short `retry:`, so the client resumes elsewhere at once.
 */
import type { Writable } from 'node:stream';
import type pg from 'pg';
import type { LiveLogs } from '../../shared/bus/live-logs.ts';
import { readLogLines } from '../../shared/db/logs.ts';
import type { JobKind } from '../../shared/db/stages.ts';
import type { StreamResponse } from '../../shared/http/types.ts';
import { sseViewerJoined } from '../../shared/metrics/metrics.ts';
import type { LiveMessage, LogLine, StatusReport } from '../../shared/logs/protocol.ts';
import { isFinalJobStatus, type JobStatus } from '../../shared/status/status.ts';
import { stopping } from '../../shared/http/stopping.ts';

/** What one stream needs. */
export interface LogStreamOptions {
  pool: pg.Pool;
  liveLogs: LiveLogs;
  kind: JobKind;
  id: string;
  /** Resume after this seq (Last-Event-ID), -1 for the start. */
  afterSeq: number;
  /** The job's current status (read after subscribing, so a change in between is not missed). */
  status: () => Promise<JobStatus | null>;
  /** Ping interval in ms (default 15 000). */
  pingMs?: number;
  /** The data of a line's `log` event (default the LogLine itself); called once per line sent, in seq order. */
  eventData?: (line: LogLine) => unknown;
  /**
   * Extra `log` events (without an id, so resuming is unaffected) to send before a line or after a
   * status report — how Estafette's clients learn of a step before its first line and of a
   * step's end. Our own clients skip `log` events without a `seq`.
   */
  stepEvents?: { beforeLine?: (line: LogLine) => unknown[]; afterStatus?: (report: StatusReport) => unknown[] };
}

const PAGE = 5000;

/** Headers of the stream: no caching, no proxy buffering (nginx/Knative's queue-proxy honour X-Accel-Buffering). */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
};

/** The Last-Event-ID of a request (header, or `lastEventId` query for clients that cannot set headers) as a seq; -1 when absent or not a seq. */
export function lastEventSeq(header: string | undefined, query: string | null): number {
  const raw = header ?? query ?? '';
  return /^\d{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : -1;
}

/** The SSE response streaming a job's log. */
export function logStream(o: LogStreamOptions): StreamResponse {
  return {
    status: 200,
    headers: SSE_HEADERS,
    stream: async (res, signal) => {
      // Counted while it streams (the estafette_sse_viewers gauge).
      const left = sseViewerJoined();
      try {
        await run(o, res, signal);
      } finally {
        left();
      }
    },
  };
}

async function run(o: LogStreamOptions, res: Writable, signal: AbortSignal): Promise<void> {
  const queue: LiveMessage[] = [];
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const unsubscribe = o.liveLogs.subscribe(o.kind, o.id, (m) => {
    queue.push(m);
    notify();
  });
  let pingDue = false;
  const pingMs = o.pingMs ?? 15_000;
  const ping = setInterval(() => {
    pingDue = true;
    notify();
  }, pingMs);
  signal.addEventListener('abort', notify);
  stopping.addEventListener('abort', notify);

  let last = o.afterSeq;
  // Live lines that arrived after a gap the database could not fill yet (another instance still inserting).
  const pending = new Map<number, LogLine>();
  // Since when the next line is missing while later ones are known (undefined: no hole).
  let holeSince: number | undefined;

  // Log events are gathered and written in chunks of up to 64 KiB (one write per line costs a
  // chunk frame and a syscall each: 20 viewers of a fast log fell behind). Any other event, and
  // the end of every catch-up or live step, writes what is gathered first, so order is kept.
  let gathered = '';
  const write = async (chunk: string): Promise<void> => {
    chunk = gathered + chunk;
    gathered = '';
    if (!chunk || signal.aborted || res.destroyed) return;
    if (res.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
  };
  const send = async (l: LogLine) => {
    for (const e of o.stepEvents?.beforeLine?.(l) ?? []) gathered += `event: log\ndata: ${JSON.stringify(e)}\n\n`;
    gathered += `event: log\nid: ${l.seq}\ndata: ${JSON.stringify(o.eventData ? o.eventData(l) : l)}\n\n`;
    last = l.seq;
    if (gathered.length >= 65_536) await write('');
  };
  const flushPending = async () => {
    for (let next = pending.get(last + 1); next; next = pending.get(last + 1)) {
      pending.delete(next.seq);
      await send(next);
    }
    for (const seq of pending.keys()) if (seq <= last) pending.delete(seq);
    if (!pending.size) holeSince = undefined;
    await write('');
  };
  // A line beyond last + 1 in the database means the lines between are still being inserted
  // (another log-ingest instance): wait for them, unless the job is over or the hole outlives a
  // ping interval (a builder that lost a batch) — then skip it rather than stall the viewer.
  const catchUp = async (allowHoles = false) => {
    for (;;) {
      const lines = await readLogLines(o.pool, o.kind, o.id, { afterSeq: last, limit: PAGE });
      let blocked = false;
      for (const l of lines) {
        if (l.seq <= last) continue;
        if (l.seq !== last + 1 && !allowHoles) {
          blocked = true;
          break;
        }
        await send(l);
      }
      holeSince = blocked || pending.size ? (holeSince ?? Date.now()) : undefined;
      if (blocked || lines.length < PAGE || signal.aborted) break;
    }
    await flushPending();
  };
  const close = async (status: JobStatus | null) => {
    await catchUp(true);
    for (const l of [...pending.values()].sort((a, b) => a.seq - b.seq)) if (l.seq > last) await send(l);
    await write(`event: close\ndata: ${JSON.stringify({ status })}\n\n`);
  };

  try {
    await write('retry: 2000\n\n');
    await catchUp();
    const initial = await o.status();
    if (initial === null || isFinalJobStatus(initial)) return await close(initial);
    while (!signal.aborted && !res.destroyed) {
      if (!queue.length && !pingDue && !stopping.aborted) await new Promise<void>((r) => (wake = r));
      if (signal.aborted) break;
      if (stopping.aborted) return await write(`event: reconnect\ndata: ${JSON.stringify({ lastEventId: last })}\nretry: 250\n\n`);
      if (pingDue) {
        pingDue = false;
        await write('event: ping\ndata: {}\n\n');
        if (holeSince !== undefined) await catchUp(Date.now() - holeSince >= pingMs);
        // A job can also end without a report through log-ingest (the reconciler failing a dead
        // builder, a cancel of a pending job): the database says so, and the viewer is told.
        const now = await o.status();
        if (now === null || isFinalJobStatus(now)) {
          await write(`event: status\ndata: ${JSON.stringify({ status: now })}\n\n`);
          return await close(now);
        }
      }
      let final: JobStatus | undefined;
      for (let m = queue.shift(); m; m = queue.shift()) {
        for (const l of m.lines ?? []) if (l.seq > last) pending.set(l.seq, l);
        await flushPending();
        // Still a gap before the next live line: the lines between are in the database (or soon will be).
        if (pending.size) await catchUp();
        if (m.status) {
          await write(`event: status\ndata: ${JSON.stringify(m.status)}\n\n`);
          for (const e of o.stepEvents?.afterStatus?.(m.status) ?? []) await write(`event: log\ndata: ${JSON.stringify(e)}\n\n`);
          if (m.status.status && isFinalJobStatus(m.status.status)) final = m.status.status;
        }
      }
      if (final) return await close(final);
    }
  } finally {
    unsubscribe();
    clearInterval(ping);
    signal.removeEventListener('abort', notify);
    stopping.removeEventListener('abort', notify);
  }
}
