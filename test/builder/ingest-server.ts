/**
 * An in-test log-ingest endpoint speaking shared/logs/protocol.ts: checks the bearer token,
 * stores lines by seq (idempotent, like the real one), records status reports, and can answer
 * 503 to some requests — before storing, or after storing (a lost acknowledgement) — so the
 * builder's resend path is exercised.
 */
import { createServer, type Server } from 'node:http';
import type { Heartbeat, LogBatch, LogLine, StatusReport } from '../../shared/logs/protocol.ts';

export interface IngestServer {
  url: string;
  /** Lines by seq (holes are undefined). */
  lines: Array<Pick<LogLine, 'stage' | 'run' | 'text' | 'stream'> | undefined>;
  /** Number of lines received again with a seq already stored; each must have matched. */
  resentLines: number;
  /** Resent lines whose content differed from what was stored under the seq (must stay 0). */
  conflicts: number;
  statuses: StatusReport[];
  heartbeats: Heartbeat[];
  /** How many distinct lines were stored when each status report arrived (ordering checks). */
  linesAtStatus: number[];
  /** Lines per accepted logs request, in arrival order. */
  batchSizes: number[];
  requests: number;
  failed: number;
  /** Called for each accepted line (for tests that react to output). */
  onLine?: (line: LogLine) => void;
  close(): Promise<void>;
}

export interface IngestOptions {
  token: string;
  /** Answer 503 (without storing) to every n-th request; 0 = never. */
  failEvery: number;
  /** Store, then answer 503 to every n-th request (lost ack); 0 = never. */
  lostAckEvery: number;
  /** Delay before answering, to make the ingest slower than a stage's output. */
  delayMs: number;
  /** Once: hold the answer to the logs request that carries line `afterSeq` (or later) for `ms`. */
  stall?: { afterSeq: number; ms: number };
}

export async function startIngest(options: Partial<IngestOptions> = {}): Promise<IngestServer> {
  const o: IngestOptions = { token: 'test-token', failEvery: 0, lostAckEvery: 0, delayMs: 0, ...options };
  const state: IngestServer = {
    url: '',
    lines: [],
    resentLines: 0,
    conflicts: 0,
    statuses: [],
    heartbeats: [],
    linesAtStatus: [],
    batchSizes: [],
    requests: 0,
    failed: 0,
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const n = ++state.requests;
        if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
        if (req.headers.authorization !== `Bearer ${o.token}`) {
          res.writeHead(401).end('{"status":401,"message":"bad token"}');
          return;
        }
        if (o.failEvery && n % o.failEvery === 0) {
          state.failed++;
          res.writeHead(503).end();
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as LogBatch & StatusReport & Heartbeat;
        if (req.url?.endsWith('/logs')) {
          if (o.stall && body.lines.some((l) => l.seq >= o.stall!.afterSeq)) {
            const ms = o.stall.ms;
            o.stall = undefined;
            await new Promise((r) => setTimeout(r, ms));
          }
          state.batchSizes.push(body.lines.length);
          for (const l of body.lines) {
            const prev = state.lines[l.seq];
            if (prev) {
              state.resentLines++;
              if (prev.text !== l.text || prev.stage !== l.stage || prev.run !== l.run) state.conflicts++;
            } else {
              state.lines[l.seq] = { stage: l.stage, run: l.run, text: l.text, stream: l.stream };
              state.onLine?.(l);
            }
          }
        } else if (req.url?.endsWith('/heartbeat')) {
          state.heartbeats.push({ sentAt: body.sentAt });
        } else if (req.url?.endsWith('/status')) {
          state.statuses.push(body);
          state.linesAtStatus.push(state.lines.filter(Boolean).length);
        } else {
          res.writeHead(404).end();
          return;
        }
        if (o.lostAckEvery && n % o.lostAckEvery === 0) {
          state.failed++;
          res.writeHead(503).end();
          return;
        }
        res.writeHead(202).end('{}');
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  state.close = () => new Promise((r) => server.close(() => r()));
  return state;
}
