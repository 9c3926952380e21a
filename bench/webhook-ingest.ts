/**
 * Benchmark 1, webhook ingest: signed GitHub push deliveries, each with its own delivery id, fired
 * by autocannon at webhook-ingest running as in production (its bundle on functions-framework,
 * JetStream), beside two servers loaded the same way in the same run: a bare Node server (no work
 * at all) and the floor for this work — a plain-JavaScript server that reads the body, checks the
 * HMAC signature and makes one acknowledged JetStream publish per request (floor-server.ts).
 * Two loads per server: as fast as it goes at 50 connections (req/s), and a constant 1,000 req/s
 * (latency). Goals: ≥ 80% of the floor's req/s, and p99 < 20 ms at 1,000 req/s. When a goal is
 * missed, a `--cpu-prof` instance under the same load explains where the time goes.
 */
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { githubHeaders, githubPush } from '../test/support/webhooks.ts';
import { spawnBare } from './bare-server.ts';
import { profileMarkdown, summariseProfileDir } from './cpu-profile.ts';
import { benchStream, freePort, spawnFunction, spawnNode, waitForHttp, withCleanup, type Proc } from './environment.ts';
import { spawnFloor } from './floor-server.ts';
import { ms, section, table, writeSection } from './report.ts';

const SECRET = 'bench-secret';
const PATH = '/api/integrations/github/events';
const CONNECTIONS = 50;
const RATE = 1000;

interface Load {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** autocannon at `url` for `seconds` (at most `rate` req/s when given), a fresh delivery id per request. */
async function load(url: string, seconds: number, rate?: number): Promise<Load> {
  const body = githubPush({ revision: 'a'.repeat(40) });
  const headers = githubHeaders(SECRET, body);
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        method: 'POST',
        path: PATH,
        headers,
        body: body.toString(),
        // A new delivery id per request: no duplicate short cut anywhere; the body and so its
        // signature stay the same.
        setupRequest: (req) => ({ ...req, headers: { ...headers, 'x-github-delivery': randomUUID() } }),
      },
    ],
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}

async function started(proc: Proc, url: string, probe: string): Promise<{ proc: Proc; url: string }> {
  await waitForHttp(`${url}${probe}`).catch((err) => {
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  });
  // The first delivery opens the NATS connection; keep it out of the figures.
  const body = githubPush();
  const res = await fetch(`${url}${PATH}`, { method: 'POST', headers: githubHeaders(SECRET, body), body: new Uint8Array(body) });
  if (res.status !== 202) throw new Error(`${url} answered ${res.status}: ${await res.text()}\n${proc.output()}`);
  return { proc, url };
}

const FN_ENV = { GITHUB_WEBHOOK_SECRET: SECRET, K_SINK: undefined, DATABASE_URL: undefined, LOG_LEVEL: 'warn' };

async function startWebhookIngest(env: Record<string, string>, nodeArgs: string[] = []): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const proc = spawnFunction('webhook-ingest', { ...env, ...FN_ENV, PORT: String(port) }, nodeArgs);
  return started(proc, `http://127.0.0.1:${port}`, '/readiness');
}

/** The same composition root on a bare node:http server, without functions-framework (plain-host.ts). */
async function startPlainHost(env: Record<string, string>): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const proc = spawnNode(['bench/plain-host.ts', 'webhook-ingest'], { ...env, ...FN_ENV, PORT: String(port) });
  return started(proc, `http://127.0.0.1:${port}`, '/readiness');
}

/** Runs the benchmark; `full` loads for 20 s per server and load instead of 5 s. */
export async function run({ full }: { full: boolean }): Promise<void> {
  const seconds = full ? 20 : 5;
  const warmup = full ? 3 : 1;
  await withCleanup(async (defer) => {
    const bus = benchStream('BENCH_WEBHOOK');
    defer(bus.drop);

    const measure = async (start: () => Promise<{ proc: Proc; url: string }>) => {
      const s = await start();
      try {
        await load(s.url, warmup);
        const max = await load(s.url, seconds);
        const steady = await load(s.url, seconds, RATE);
        return { max, steady };
      } finally {
        await s.proc.stop();
      }
    };
    const bare = await measure(async () => {
      const port = await freePort();
      const proc = spawnBare(port);
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/`);
      return { proc, url };
    });
    const floor = await measure(async () => {
      const port = await freePort();
      return started(spawnFloor(port, { secret: SECRET, ...bus }), `http://127.0.0.1:${port}`, '/');
    });
    const fn = await measure(() => startWebhookIngest(bus.env));
    const plain = await measure(() => startPlainHost(bus.env));

    const ratio = fn.max.rps / floor.max.rps;
    const throughputOk = ratio >= 0.8;
    const p99Ok = fn.steady.p99 < 20;
    const row = (name: string, r: { max: Load; steady: Load }) => [
      name,
      r.max.rps.toFixed(0),
      ms(r.max.p99),
      r.steady.rps.toFixed(0),
      ms(r.steady.p50),
      ms(r.steady.p99),
      r.max.non2xx + r.steady.non2xx,
      r.max.errors + r.steady.errors,
    ];
    const tbl = table(
      ['server', `req/s (${CONNECTIONS} conns)`, 'p99 ms', `req/s at ${RATE}/s`, 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
      [
        row('bare node http (baseline)', bare),
        row('floor: plain JS, HMAC + one acked JetStream publish', floor),
        row('webhook-ingest (bundle, functions-framework, JetStream)', fn),
        row('same handler on bare node:http, no functions-framework (comparison)', plain),
      ],
    );
    console.log(tbl);

    let body = `${CONNECTIONS} connections, ${seconds} s per load after ${warmup} s of warm-up, autocannon in the benchmark process; each request a signed GitHub push with its own delivery id. The constant-rate load asks for ${RATE} req/s.\n\n${tbl}\n\n`;
    body += `- Throughput: ${(ratio * 100).toFixed(0)}% of the floor (goal ≥ 80%): **${throughputOk ? 'met' : 'missed'}**; the floor itself does ${((100 * floor.max.rps) / bare.max.rps).toFixed(0)}% of the bare server.\n`;
    body += `- p99 at ${RATE} req/s: ${ms(fn.steady.p99)} ms (goal < 20 ms): **${p99Ok ? 'met' : 'missed'}**\n`;
    body += `- Without functions-framework the same handler does ${((100 * plain.max.rps) / floor.max.rps).toFixed(0)}% of the floor (p99 ${ms(plain.steady.p99)} ms at ${RATE} req/s): the framework's request pipeline costs ${(100 - (100 * fn.max.rps) / plain.max.rps).toFixed(0)}% of the throughput.\n`;

    if (!throughputOk || !p99Ok) {
      const dir = mkdtempSync(join(tmpdir(), 'bench-prof-'));
      defer(() => rmSync(dir, { recursive: true, force: true }));
      const prof = await startWebhookIngest(bus.env, ['--cpu-prof', '--cpu-prof-dir', dir]);
      await load(prof.url, Math.min(seconds, 10));
      await prof.proc.stop();
      try {
        const p = summariseProfileDir(dir);
        body += `\nProfile of webhook-ingest under the ${CONNECTIONS}-connection load (\`node --cpu-prof\`, source-mapped to packages; busy ${p.busyPercent.toFixed(0)}% of the time):\n\n`;
        body += profileMarkdown(p);
      } catch (err) {
        body += `\n(profile not written: ${(err as Error).message})\n`;
      }
    }
    writeSection('webhook-ingest', section('Webhook ingest', body));
  });
}
