/**
 * The HTTP reporter: ships log lines and status reports to log-ingest (shared/logs/protocol.ts).
 *
 * - Every line gets the next value of ONE gap-free `seq` counter for the job, the time it was
 *   read and its stream.
 * - Lines are batched (every `flushMs` or `batchLines`, whichever first) and POSTed with the job
 *   token. Logs and status reports share one FIFO queue and one sender, so a status report never
 *   overtakes the lines before it.
 * - A batch stays at the head of the queue until log-ingest acknowledges it (2xx) and is resent
 *   unchanged (same seqs) with exponential backoff on network errors, 5xx, 408 and 429: lines are
 *   never dropped and never duplicated. Other 4xx answers can never succeed; the item is dropped
 *   with one line on stderr.
 * - Backpressure: while more than `maxUnacked` lines are unacknowledged, `line()` returns a
 *   promise that settles once the backlog is down to half, so the stage's output is paused and
 *   memory stays flat however much a stage prints.
 */
import { ingestPath, MAX_BATCH_BYTES, type LogBatch, type LogLine, type LogStream, type StatusReport } from '../shared/logs/protocol.ts';
import type { Reporter } from './reporter.ts';

export interface LogShipperOptions {
  /** log-ingest base URL, e.g. http://log-ingest. */
  url: string;
  token: string;
  kind: 'build' | 'release' | 'bot';
  id: string;
  flushMs: number;
  batchLines: number;
  /** Unacknowledged lines above which producers are paused. */
  maxUnacked: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Per-request timeout. */
  requestTimeoutMs: number;
  /** After close() starts, how long to keep retrying before giving up. */
  closeDeadlineMs: number;
  /** Where the shipper writes its own diagnostics (never secrets, never log text). */
  warn: (message: string) => void;
}

export const LOG_SHIPPER_DEFAULTS: Omit<LogShipperOptions, 'url' | 'token' | 'kind' | 'id'> = {
  flushMs: 250,
  batchLines: 500,
  maxUnacked: 5000,
  initialBackoffMs: 100,
  maxBackoffMs: 5000,
  requestTimeoutMs: 30_000,
  closeDeadlineMs: 5 * 60_000,
  warn: (m) => process.stderr.write(`builder: ${m}\n`),
};

/** Bytes a batch may reach before it is sealed early; well under the ingest's body limit. */
const SEAL_BYTES = Math.floor(MAX_BATCH_BYTES / 4);

type QueueItem = { what: 'logs'; body: LogBatch } | { what: 'status'; body: StatusReport };

/** What the shipper did, for tests and the builder's exit code. */
export interface LogShipperStats {
  linesSent: number;
  requests: number;
  retries: number;
  dropped: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Creates an HTTP reporter for one job. */
export function createLogShipper(options: Pick<LogShipperOptions, 'url' | 'token' | 'kind' | 'id'> & Partial<LogShipperOptions>): Reporter & { stats: LogShipperStats } {
  const o: LogShipperOptions = { ...LOG_SHIPPER_DEFAULTS, ...options };
  const base = o.url.replace(/\/+$/, '');
  const endpoints = { logs: base + ingestPath(o.kind, o.id, 'logs'), status: base + ingestPath(o.kind, o.id, 'status') };
  const stats: LogShipperStats = { linesSent: 0, requests: 0, retries: 0, dropped: 0 };

  let seq = 0;
  let open: LogLine[] = [];
  let openBytes = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  const queue: QueueItem[] = [];
  let unacked = 0;
  let pumping = false;
  let closing = false;
  let closeDeadline = Infinity;
  let lastStatusDelivered = true;
  let drainWaiters: Array<() => void> = [];
  let idleWaiters: Array<() => void> = [];

  const seal = (): void => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (open.length === 0) return;
    queue.push({ what: 'logs', body: { lines: open } });
    open = [];
    openBytes = 0;
    void pump();
  };

  /** Sends one item until acknowledged; false when it was given up. */
  const deliver = async (item: QueueItem): Promise<boolean> => {
    const body = JSON.stringify(item.body);
    let backoff = o.initialBackoffMs;
    for (;;) {
      let problem: string;
      try {
        stats.requests++;
        const res = await fetch(endpoints[item.what], {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
          body,
          signal: AbortSignal.timeout(o.requestTimeoutMs),
        });
        await res.body?.cancel().catch(() => undefined);
        if (res.ok) return true;
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
          o.warn(`log-ingest refused a ${item.what} report with HTTP ${res.status}; it will not be resent`);
          stats.dropped++;
          return false;
        }
        problem = `HTTP ${res.status}`;
      } catch (err) {
        problem = (err as Error).message;
      }
      if (closing && Date.now() + backoff > closeDeadline) {
        o.warn(`giving up on log-ingest (${problem}) after the close deadline`);
        stats.dropped++;
        return false;
      }
      stats.retries++;
      // Jitter keeps many builders from retrying in lockstep after an ingest restart.
      await sleep(backoff * (0.5 + Math.random() / 2));
      backoff = Math.min(o.maxBackoffMs, backoff * 2);
    }
  };

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      while (queue.length > 0) {
        const item = queue[0]!;
        const ok = await deliver(item);
        queue.shift();
        if (item.what === 'logs') {
          unacked -= item.body.lines.length;
          if (ok) stats.linesSent += item.body.lines.length;
          if (unacked <= o.maxUnacked / 2 && drainWaiters.length > 0) {
            const w = drainWaiters;
            drainWaiters = [];
            w.forEach((f) => f());
          }
        } else {
          lastStatusDelivered = ok;
        }
      }
    } finally {
      pumping = false;
    }
    if (open.length === 0 && queue.length === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      w.forEach((f) => f());
    }
  };

  return {
    stats,

    line(stage: string, run: number, stream: LogStream, text: string) {
      open.push({ stage, run, seq: seq++, time: new Date().toISOString(), stream, text });
      unacked++;
      openBytes += text.length + stage.length + 80;
      if (open.length >= o.batchLines || openBytes >= SEAL_BYTES) seal();
      else flushTimer ??= setTimeout(seal, o.flushMs);
      if (unacked < o.maxUnacked) return undefined;
      return new Promise<void>((resolve) => drainWaiters.push(resolve));
    },

    status(report: StatusReport) {
      seal();
      const last = queue[queue.length - 1];
      // Coalesce with a status report still waiting (not in flight) unless both change the job
      // status: log-ingest must see every job transition (running before succeeded).
      const waiting = last && (queue.length > 1 || !pumping);
      if (waiting && last.what === 'status' && !(last.body.status && report.status)) {
        last.body = {
          ...((last.body.status ?? report.status) ? { status: last.body.status ?? report.status } : {}),
          stages: [...(last.body.stages ?? []), ...(report.stages ?? [])],
        };
      } else {
        queue.push({ what: 'status', body: { ...report } });
      }
      void pump();
    },

    async close(): Promise<boolean> {
      closing = true;
      closeDeadline = Date.now() + o.closeDeadlineMs;
      seal();
      if (queue.length > 0 || pumping) {
        await new Promise<void>((resolve) => {
          idleWaiters.push(resolve);
          void pump();
        });
      }
      return lastStatusDelivered;
    },
  };
}
