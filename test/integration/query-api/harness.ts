/**
 * Test harness of log-ingest and query-api: a fresh migrated PostgreSQL database, two core-NATS
 * LiveLogs connections under a unique subject prefix (one per function, as deployed), both
 * handlers served over real HTTP on port 0, a recorder of published events, seeding helpers and
 * a Server-Sent Events reader.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { signJobToken } from '../../../shared/auth/job-token.ts';
import { connectLiveLogs, type LiveLogs } from '../../../shared/bus/live-logs.ts';
import { createBuild, transitionBuildStatus, type Build } from '../../../shared/db/builds.ts';
import { migrate } from '../../../shared/db/migrate.ts';
import { upsertPipeline, type Pipeline } from '../../../shared/db/pipelines.ts';
import { createPool } from '../../../shared/db/pool.ts';
import type { EventName } from '../../../shared/events/types.ts';
import { toNodeListener } from '../../../shared/http/node-adapter.ts';
import type { LogLine } from '../../../shared/logs/protocol.ts';
import type { Publish } from '../../../shared/runtime/runtime.ts';
import { makeHandler as makeLogIngest } from '../../../functions/log-ingest/handler.ts';
import { makeHandler as makeQueryApi, type QueryApiDeps } from '../../../functions/query-api/handler.ts';
import { freshDatabase, requireService, uniqueName } from '../../support/services.ts';
import { silentLogger } from '../../support/logger.ts';

export const JWT_KEY = 'test-jwt-key-0123456789abcdef';

/** One published event. */
export interface Published {
  name: EventName;
  data: Record<string, unknown>;
  id?: string;
}

export interface Harness {
  pool: pg.Pool;
  /** Base URLs of the two servers. */
  ingestUrl: string;
  apiUrl: string;
  published: Published[];
  /** LiveLogs of the viewer side (query-api's connection). */
  viewerLogs: LiveLogs;
  /** Subscriptions query-api holds right now (each SSE viewer holds one). */
  activeSubscriptions(): number;
  publisherLogs: LiveLogs;
  stop(): Promise<void>;
}

/** Starts both functions against real services; skips the suite when they are unavailable. */
export async function startHarness(ctx: Mocha.Context, options: Partial<Pick<QueryApiDeps, 'auth' | 'secretKey' | 'pingMs' | 'fetch' | 'staticDir' | 'createdWaitMs'>> = {}): Promise<Harness> {
  const pgUrl = await requireService(ctx, 'postgres');
  const natsUrl = await requireService(ctx, 'nats');
  const db = await freshDatabase(pgUrl, 'qa');
  const pool = createPool(db.url, { max: 8 });
  await migrate(pool);
  const prefix = `${uniqueName('LOGS')}.`;
  const publisherLogs = await connectLiveLogs(natsUrl, prefix);
  const viewerLogs = await connectLiveLogs(natsUrl, prefix);
  let active = 0;
  const countingLogs: LiveLogs = {
    publish: (kind, id, msg) => viewerLogs.publish(kind, id, msg),
    subscribe: (kind, id, onMessage) => {
      active++;
      const off = viewerLogs.subscribe(kind, id, onMessage);
      return () => {
        active--;
        off();
      };
    },
    close: () => viewerLogs.close(),
  };
  const published: Published[] = [];
  const publish: Publish = async (name, data, opts) => {
    published.push({ name, data: data as unknown as Record<string, unknown>, ...(opts?.id ? { id: opts.id } : {}) });
    return { duplicate: false };
  };
  const quiet = silentLogger;
  const ingest = createServer(toNodeListener(makeLogIngest({ pool, liveLogs: publisherLogs, publish, jwtKey: JWT_KEY, log: quiet }), { log: quiet }));
  const api = createServer(toNodeListener(makeQueryApi({ pool, liveLogs: countingLogs, publish, auth: options.auth ?? { enabled: false }, log: quiet, createdWaitMs: 0, ...options }), { log: quiet }));
  const listen = (s: Server) => new Promise<string>((r) => s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
  const [ingestUrl, apiUrl] = [await listen(ingest), await listen(api)];
  return {
    pool,
    ingestUrl,
    apiUrl,
    published,
    viewerLogs,
    publisherLogs,
    activeSubscriptions: () => active,
    stop: async () => {
      for (const s of [ingest, api]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
      await publisherLogs.close();
      await viewerLogs.close();
      await pool.end();
      await db.drop();
    },
  };
}

/** A pipeline with release targets and one build per given status (oldest first). */
export async function seed(
  pool: pg.Pool,
  repoName: string,
  builds: Array<{ status?: 'pending' | 'running' | 'succeeded' | 'failed' | 'canceled'; branch?: string; version?: string; revision?: string }> = [],
  extra: { labels?: Record<string, string>; releaseTargets?: Array<{ name: string; actions: { name: string }[] }> } = {},
): Promise<{ pipeline: Pipeline; builds: Build[] }> {
  const releaseTargets = extra.releaseTargets ?? [
    { name: 'production', actions: [] },
    { name: 'staging', actions: [{ name: 'deploy' }, { name: 'rollback' }] },
  ];
  const pipeline = await upsertPipeline(pool, { repoSource: 'github.com', repoOwner: 'estafette', repoName, labels: extra.labels ?? {}, releaseTargets });
  const out: Build[] = [];
  for (const [i, b] of builds.entries()) {
    const { build } = await createBuild(pool, {
      pipelineId: pipeline.id,
      repoSource: 'github.com',
      repoOwner: 'estafette',
      repoName,
      branch: b.branch ?? 'main',
      revision: b.revision ?? `${String(i).padStart(2, '0')}${'a'.repeat(38)}`,
      version: b.version ?? `1.0.${i}`,
      labels: extra.labels ?? {},
      releaseTargets,
      manifest: 'builder:\n  track: stable\n',
      chainDepth: 2,
    });
    // Walk the state machine to the wanted status, as the builder's reports would.
    const path: string[] = { pending: [], running: ['running'], succeeded: ['running', 'succeeded'], failed: ['running', 'failed'], canceled: ['canceled'] }[b.status ?? 'succeeded'];
    let current = build;
    for (const s of path) current = await transitionBuildStatus(pool, build.id, s as Build['buildStatus']);
    out.push(current);
  }
  return { pipeline, builds: out };
}

/** `n` lines with seq from `from`. */
export const lines = (from: number, n: number, stage = 'build'): LogLine[] =>
  Array.from({ length: n }, (_, i) => ({
    seq: from + i,
    stage,
    run: 1,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, from + i)).toISOString(),
    stream: i % 7 === 3 ? 'stderr' : 'stdout',
    text: `line ${from + i} \u001b[32mok\u001b[0m`,
  }));

/** A job token's Authorization header. */
export async function bearer(kind: 'build' | 'release' | 'bot', id: string): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await signJobToken(JWT_KEY, { kind, id })}`, 'content-type': 'application/json' };
}

/** POSTs JSON and returns status + parsed body. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** GETs JSON. */
export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (static files, redirects)
  }
  return { status: res.status, body, headers: res.headers };
}

/** One Server-Sent Event. */
export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** Reads an SSE response until `stop(event)` is true or the stream ends; returns the events (and the headers). */
export async function readSse(url: string, opts: { headers?: Record<string, string>; stop?: (e: SseEvent, all: SseEvent[]) => boolean; onEvent?: (e: SseEvent) => void; timeoutMs?: number } = {}) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), opts.timeoutMs ?? 20_000);
  const res = await fetch(url, { headers: opts.headers ?? {}, signal: abort.signal });
  const events: SseEvent[] = [];
  let buf = '';
  const decoder = new TextDecoder();
  try {
    if (!res.body) return { res, events };
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const e: SseEvent = { event: 'message', data: '' };
        let hasData = false;
        for (const l of block.split('\n')) {
          const [k, ...rest] = l.split(':');
          const v = rest.join(':').replace(/^ /, '');
          if (k === 'event') e.event = v;
          else if (k === 'id') e.id = v;
          else if (k === 'data') (e.data += (hasData ? '\n' : '') + v), (hasData = true);
        }
        if (!hasData) continue; // comments and retry: lines
        events.push(e);
        opts.onEvent?.(e);
        if (opts.stop?.(e, events)) {
          abort.abort();
          return { res, events };
        }
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    clearTimeout(timer);
  }
  return { res, events };
}
