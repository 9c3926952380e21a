/**
 * Benchmark 1, webhook ingest: signed GitHub push deliveries (each with its own delivery id, so
 * every request is authenticated, deduplicated against PostgreSQL, published to JetStream and
 * recorded) fired by autocannon at 200 connections at webhook-ingest running as in production
 * (serve.ts on functions-framework), next to the bare Node server of bare-server.ts hit the
 * same way in the same run. Goal: ≥ 50% of the bare server's requests/s and p99 < 20 ms.
 * When a goal is missed, a second load runs against a `--cpu-prof` instance and the section
 * lists its top frames.
 */
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { createPool } from '../shared/db/pool.ts';
import { deliverySeen, recordDelivery } from '../shared/db/deliveries.ts';
import { githubHeaders, githubPush } from '../test/support/webhooks.ts';
import { spawnBare } from './bare-server.ts';
import { profileMarkdown, summariseProfileDir } from './cpu-profile.ts';
import { benchDatabase, benchStream, freePort, natsUrl, spawnNode, waitForHttp, withCleanup, type Proc } from './environment.ts';
import { ms, section, table, writeSection } from './report.ts';

const SECRET = 'bench-secret';
const PATH = '/api/integrations/github/events';
const CONNECTIONS = 200;

interface Load {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** autocannon at `url` for `seconds`, a fresh delivery id per request. */
async function load(url: string, seconds: number): Promise<Load> {
  const body = githubPush({ revision: 'a'.repeat(40) });
  const headers = githubHeaders(SECRET, body);
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: PATH,
        headers,
        body: body.toString(),
        // A new delivery id keeps every request on the full path (no duplicate short cut); the body
        // and so its signature stay the same.
        setupRequest: (req) => ({ ...req, headers: { ...headers, 'x-github-delivery': randomUUID() } }),
      },
    ],
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}

async function startWebhookIngest(env: Record<string, string>, nodeArgs: string[] = []): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const proc = spawnNode([...nodeArgs, 'shared/http/serve.ts', 'webhook-ingest'], { ...env, PORT: String(port), GITHUB_WEBHOOK_SECRET: SECRET, K_SINK: undefined });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/liveness`).catch((err) => {
    throw new Error(`${(err as Error).message}\n${proc.output()}`);
  });
  // The first delivery builds the lazy dependencies (pool, NATS connection); keep it out of the figures.
  const body = githubPush();
  const res = await fetch(`${url}${PATH}`, { method: "POST", headers: githubHeaders(SECRET, body), body: body.toString() });
  if (res.status !== 202) throw new Error(`webhook-ingest answered ${res.status}: ${await res.text()}\n${proc.output()}`);
  return { proc, url };
}

/** Operations per second and mean latency of `op` run by `concurrency` workers for `seconds`. */
async function capacity(op: () => Promise<unknown>, concurrency: number, seconds: number): Promise<{ opsPerSecond: number; meanMs: number }> {
  const end = Date.now() + seconds * 1000;
  let n = 0;
  let total = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        await op();
        total += performance.now() - t;
        n++;
      }
    }),
  );
  return { opsPerSecond: n / seconds, meanMs: total / n };
}

/**
 * What one request waits on, measured alone at the same concurrency from this process: the
 * delivery dedupe (SELECT + INSERT on a pool of 10, the function's default) and one JetStream
 * publish with its ack.
 */
async function components(dbUrl: string, stream: { subjectPrefix: string }, seconds: number): Promise<Array<Array<string | number>>> {
  const pool = createPool(dbUrl);
  const nc = await connect({ servers: natsUrl });
  try {
    const js = nc.jetstream();
    const payload = new TextEncoder().encode(githubPush().toString());
    const dedupe = await capacity(async () => {
      const id = randomUUID();
      await deliverySeen(pool, 'github', id);
      await recordDelivery(pool, 'github', id);
    }, CONNECTIONS, seconds);
    const select = await capacity(() => deliverySeen(pool, 'github', randomUUID()), CONNECTIONS, seconds);
    const publish = await capacity(() => js.publish(`${stream.subjectPrefix}ci.estafette.git.push`, payload, { msgID: randomUUID() }), CONNECTIONS, seconds);
    return [
      ['delivery dedupe: SELECT + INSERT (pool of 10)', dedupe.opsPerSecond.toFixed(0), ms(dedupe.meanMs)],
      ['SELECT alone (pool of 10)', select.opsPerSecond.toFixed(0), ms(select.meanMs)],
      ['JetStream publish + ack', publish.opsPerSecond.toFixed(0), ms(publish.meanMs)],
    ];
  } finally {
    await nc.close();
    await pool.end();
  }
}

/** Runs the benchmark; `full` loads for 20 s per server instead of 5 s. */
export async function run({ full }: { full: boolean }): Promise<void> {
  const seconds = full ? 20 : 5;
  const warmup = full ? 3 : 1;
  await withCleanup(async (defer) => {
    const db = await benchDatabase('bench_webhook');
    defer(db.drop);
    const bus = benchStream('BENCH_WEBHOOK');
    defer(bus.drop);
    const env = { DATABASE_URL: db.url, ...bus.env };

    const barePort = await freePort();
    const bare = spawnBare(barePort);
    defer(bare.stop);
    const bareUrl = `http://127.0.0.1:${barePort}`;
    await waitForHttp(`${bareUrl}/`);
    await load(bareUrl, warmup);
    const baseline = await load(bareUrl, seconds);
    await bare.stop();

    const fn = await startWebhookIngest(env);
    defer(fn.proc.stop);
    await load(fn.url, warmup);
    const measured = await load(fn.url, seconds);
    await fn.proc.stop();

    const ratio = measured.rps / baseline.rps;
    const throughputOk = ratio >= 0.5;
    const p99Ok = measured.p99 < 20;
    const rows = [
      ['bare node http (baseline)', baseline.rps.toFixed(0), ms(baseline.p50), ms(baseline.p99), baseline.requests, baseline.non2xx, baseline.errors],
      ['webhook-ingest (serve.ts, PostgreSQL, JetStream)', measured.rps.toFixed(0), ms(measured.p50), ms(measured.p99), measured.requests, measured.non2xx, measured.errors],
    ];
    const tbl = table(['server', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'non-2xx', 'errors'], rows);
    console.log(tbl);

    let body = `${CONNECTIONS} connections, ${seconds} s per server after ${warmup} s of warm-up, autocannon in the benchmark process; each request a signed GitHub push with its own delivery id.\n\n${tbl}\n\n`;
    body += `- Throughput: ${(ratio * 100).toFixed(0)}% of the bare server (goal ≥ 50%): **${throughputOk ? 'met' : 'missed'}**\n`;
    body += `- p99: ${ms(measured.p99)} ms (goal < 20 ms): **${p99Ok ? 'met' : 'missed'}**\n`;
    if (measured.non2xx || measured.errors) body += `- ${measured.non2xx} non-2xx answers and ${measured.errors} errors/timeouts during the run.\n`;

    if (!throughputOk || !p99Ok) {
      const dir = mkdtempSync(join(tmpdir(), 'bench-prof-'));
      defer(() => rmSync(dir, { recursive: true, force: true }));
      const prof = await startWebhookIngest(env, ['--cpu-prof', '--cpu-prof-dir', dir]);
      await load(prof.url, Math.min(seconds, 10));
      await prof.proc.stop();
      try {
        const p = summariseProfileDir(dir);
        body += `\nProfile of webhook-ingest under the same load (\`node --cpu-prof\`, self time of its busiest thread; busy ${p.busyPercent.toFixed(0)}% of the time):\n\n`;
        body += profileMarkdown(p);
      } catch (err) {
        body += `\n(profile not written: ${(err as Error).message})\n`;
      }
    }
    const parts = await components(db.url, bus, full ? 5 : 2);
    const partsTable = table([`alone, ${CONNECTIONS} concurrent, from the benchmark process`, 'ops/s', 'mean ms'], parts);
    console.log(partsTable);
    body += `\nWhat each request waits on, measured alone:\n\n${partsTable}\n`;
    writeSection('webhook-ingest', section('Webhook ingest', body));
  });
}
