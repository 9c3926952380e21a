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
 * - Heartbeats: every request counts as one; after `heartbeatMs` without any request (a stage
 *   printing nothing) a Heartbeat goes through the same queue, until `close()` is done.
 * - Giving up: `close()` keeps retrying for `closeDeadlineMs`; `giveUpAfter(ms)` shortens that
 *   (the process that started the builder is gone and the ingest may be gone with it), also
 *   aborting a request in flight at the deadline.
 * - Tracing: every request carries the build's `traceparent` header when it has one.
 * All timing comes from the injected clock.
 */
import { HEARTBEAT_SECONDS, ingestPath, MAX_BATCH_BYTES, type Heartbeat, type IngestEndpoint, type LogBatch, type LogLine, type LogStream, type StatusReport } from '../shared/logs/protocol.ts';
import { type CancelTimer, type Clock, isoNow, sleep, systemClock } from '../shared/time/clock.ts';
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
  /** Milliseconds without any request after which a heartbeat is sent; 0 = never. */
  heartbeatMs: number;
  /** W3C traceparent sent with every request, so log-ingest's work joins the build's trace. */
  traceparent?: string;
  /** Where the shipper writes its own diagnostics (never secrets, never log text). */
  warn: (message: string) => void;
  clock: Clock;
}

const LOG_SHIPPER_DEFAULTS: Omit<LogShipperOptions, 'url' | 'token' | 'kind' | 'id'> = {
  flushMs: 250,
  batchLines: 500,
  maxUnacked: 5000,
  initialBackoffMs: 100,
  maxBackoffMs: 5000,
  requestTimeoutMs: 30_000,
  closeDeadlineMs: 5 * 60_000,
  heartbeatMs: HEARTBEAT_SECONDS * 1000,
  warn: (m) => process.stderr.write(`builder: ${m}\n`),
  clock: systemClock,
};

/** Bytes a batch may reach before it is sealed early; well under the ingest's body limit. */
const SEAL_BYTES = Math.floor(MAX_BATCH_BYTES / 4);

type QueueItem = { what: 'logs'; body: LogBatch } | { what: 'status'; body: StatusReport } | { what: 'heartbeat'; body: Heartbeat };

/** What the shipper did, for tests and the builder's exit code. */
export interface LogShipperStats {
  linesSent: number;
  requests: number;
  retries: number;
  dropped: number;
  heartbeats: number;
}

/** The HTTP reporter of one job. */
export interface LogShipper extends Reporter {
  stats: LogShipperStats;
  /** Gives up on undelivered reports `ms` from now (or at the close deadline, if sooner). */
  giveUpAfter(ms: number): void;
}

/** Creates an HTTP reporter for one job. */
export function createLogShipper(options: Pick<LogShipperOptions, 'url' | 'token' | 'kind' | 'id'> & Partial<LogShipperOptions>): LogShipper {
  const o: LogShipperOptions = { ...LOG_SHIPPER_DEFAULTS, ...options };
  const clock = o.clock;
  const base = o.url.replace(/\/+$/, '');
  const endpoint = (what: IngestEndpoint): string => base + ingestPath(o.kind, o.id, what);
  const stats: LogShipperStats = { linesSent: 0, requests: 0, retries: 0, dropped: 0, heartbeats: 0 };

  let seq = 0;
  let open: LogLine[] = [];
  let openBytes = 0;
  let cancelFlush: CancelTimer | undefined;
  const queue: QueueItem[] = [];
  let unacked = 0;
  let pumping = false;
  let closed = false;
  let deadline = Infinity;
  let cancelDeadline: CancelTimer = () => undefined;
  /** Aborts requests in flight once the deadline has passed. */
  const givenUp = new AbortController();
  let lastRequestAt = clock.now();
  let cancelHeartbeat: CancelTimer = () => undefined;
  let lastStatusDelivered = true;
  let drainWaiters: Array<() => void> = [];
  let idleWaiters: Array<() => void> = [];

  const setDeadline = (at: number): void => {
    if (at >= deadline) return;
    deadline = at;
    cancelDeadline();
    cancelDeadline = clock.setTimer(() => givenUp.abort(), Math.max(0, at - clock.now()));
  };

  /** Keeps one timer that sends a heartbeat once nothing was sent for heartbeatMs. */
  const armHeartbeat = (): void => {
    cancelHeartbeat();
    if (closed || o.heartbeatMs <= 0) return;
    cancelHeartbeat = clock.setTimer(
      () => {
        if (closed) return;
        if (pumping || queue.length > 0 || clock.now() - lastRequestAt < o.heartbeatMs) return armHeartbeat();
        stats.heartbeats++;
        queue.push({ what: 'heartbeat', body: { sentAt: isoNow(clock) } });
        void pump();
      },
      Math.max(1, lastRequestAt + o.heartbeatMs - clock.now()),
    );
  };

  const seal = (): void => {
    cancelFlush?.();
    cancelFlush = undefined;
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
        lastRequestAt = clock.now();
        const res = await fetch(endpoint(item.what), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}`, ...(o.traceparent ? { traceparent: o.traceparent } : {}) },
          body,
          signal: AbortSignal.any([AbortSignal.timeout(o.requestTimeoutMs), givenUp.signal]),
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
      if (givenUp.signal.aborted || clock.now() + backoff > deadline) {
        o.warn(`giving up on log-ingest (${problem}) after the deadline`);
        stats.dropped++;
        return false;
      }
      stats.retries++;
      // Jitter keeps many builders from retrying in lockstep after an ingest restart.
      await sleep(clock, backoff * (0.5 + Math.random() / 2));
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
        } else if (item.what === 'status') {
          lastStatusDelivered = ok;
        }
      }
    } finally {
      pumping = false;
    }
    armHeartbeat();
    if (open.length === 0 && queue.length === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      w.forEach((f) => f());
    }
  };

  armHeartbeat();

  return {
    stats,

    giveUpAfter(ms: number) {
      setDeadline(clock.now() + ms);
    },

    line(stage: string, run: number, stream: LogStream, text: string) {
      open.push({ stage, run, seq: seq++, time: isoNow(clock), stream, text });
      unacked++;
      openBytes += text.length + stage.length + 80;
      if (open.length >= o.batchLines || openBytes >= SEAL_BYTES) seal();
      else cancelFlush ??= clock.setTimer(seal, o.flushMs);
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
      setDeadline(clock.now() + o.closeDeadlineMs);
      seal();
      if (queue.length > 0 || pumping) {
        await new Promise<void>((resolve) => {
          idleWaiters.push(resolve);
          void pump();
        });
      }
      closed = true;
      cancelHeartbeat();
      cancelDeadline();
      return lastStatusDelivered;
    },
  };
}
