/**
 * Benchmark 3, cold start: from spawning a function exactly as its image runs it
 * (`node dist/functions/<name>.mjs`) to
 *   - its first 200 on `/liveness`, beside a bare Node http server spawned the same way, and
 *   - its first handled real request, beside a plain-JavaScript script doing the floor of that
 *     I/O (connect to PostgreSQL, one query, connect to NATS, one publish; spawn → exit):
 *     webhook-ingest a signed push answered 202; build-dispatch a binary-mode
 *     `ci.estafette.git.push` CloudEvent accepted (manifest from a GitHub contents API stand-in,
 *     the Job created through the Kubernetes REST contract server); query-api `GET
 *     /api/pipelines`; log-ingest one log batch; cron-relay one tick.
 * Medians of 10 starts (3 at the quick size), all measured in turns in the same run.
 * Goals: /liveness ≤ 1.5× the bare server; first real request ≤ 1.5× the same-I/O script.
 * For a missed goal a `--cpu-prof` start of that function is summarised (source-mapped to packages).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { request, createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signJobToken } from '../shared/auth/job-token.ts';
import { createBuild } from '../shared/db/builds.ts';
import { upsertPipeline } from '../shared/db/pipelines.ts';
import { createPool } from '../shared/db/pool.ts';
import { FUNCTION_NAMES, type FunctionName } from '../shared/http/functions.ts';
import { FakeKubeApi } from '../test/support/fake-kube-api.ts';
import { githubHeaders, githubPush } from '../test/support/webhooks.ts';
import { spawnBare } from './bare-server.ts';
import { profileMarkdown, summariseProfileDir } from './cpu-profile.ts';
import { benchDatabase, benchStream, freePort, median, natsUrl, spawnFunction, spawnProcess, withCleanup, type Proc } from './environment.ts';
import { ms, section, table, writeSection } from './report.ts';

const JWT_KEY = 'bench-key';
const SECRET = 'bench-secret';
const MANIFEST = 'version:\n  semver:\n    major: 1\nstages:\n  build:\n    image: golang:1.22\n    commands: ["go build"]\n';

/** The floor of a function's first request: plain JS, the same kind of I/O, nothing else. */
const SAME_IO_JS = `
const pg = require('pg');
const { connect } = require('nats');
(async () => {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  await client.query('SELECT 1');
  const nc = await connect({ servers: process.env.NATS_URL });
  await nc.jetstream().publish(process.env.SUBJECT, new TextEncoder().encode('{}'));
  await client.end();
  await nc.close();
})().then(() => process.exit(0), (err) => { console.error(err.message); process.exit(1); });
`;

/** Resolves with the status of one HTTP request (undefined while nothing listens). */
function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(undefined));
    req.end(init.body);
  });
}

/** Polls until `probe` answers `want`; ms since `t0`. */
async function until(probe: () => Promise<number | undefined>, want: number, t0: number, proc: Proc): Promise<number> {
  for (;;) {
    const status = await probe();
    if (status === want) return performance.now() - t0;
    if (status !== undefined && status >= 400 && status !== 503) throw new Error(`answered ${status}:\n${proc.output().slice(0, 2000)}`);
    if (proc.child.exitCode !== null) throw new Error(`exited with ${proc.child.exitCode} before answering:\n${proc.output().slice(0, 2000)}`);
    if (performance.now() - t0 > 60_000) throw new Error('no answer in 60 s');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A first real request of each function: what it sends and the status that means "handled". */
type FirstRequest = (base: string) => { send: () => Promise<number | undefined>; want: number };

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
};

/** Runs the benchmark; 3 starts per server, 10 with `full`. */
export async function run({ full }: { full: boolean }): Promise<void> {
  const starts = full ? 10 : 3;
  await withCleanup(async (defer) => {
    const db = await benchDatabase('bench_cold');
    defer(db.drop);
    const bus = benchStream('BENCH_COLD');
    defer(bus.drop);

    // What the first requests need: a build for log-ingest's batch, a forge and a cluster for dispatch.
    const pool = createPool(db.url);
    defer(() => pool.end());
    const pipeline = await upsertPipeline(pool, { repoSource: 'github.com', repoOwner: 'bench', repoName: 'cold' });
    const { build } = await createBuild(pool, { ...pipeline, pipelineId: pipeline.id, branch: 'main', revision: 'a'.repeat(40), version: '1.0.0' });
    const token = await signJobToken(JWT_KEY, { kind: 'build', id: build.id });
    const github = createServer((req, res) => (req.url?.includes('/contents/.estafette.yaml') ? res.end(MANIFEST) : res.writeHead(404).end('{}')));
    const githubUrl = await listen(github);
    defer(() => github.close());
    const kube = await new FakeKubeApi().start();
    defer(() => kube.stop());
    const kubeDir = mkdtempSync(join(tmpdir(), 'bench-kube-'));
    defer(() => rmSync(kubeDir, { recursive: true, force: true }));
    const kubeconfig = join(kubeDir, 'config');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${kube.url}\n    insecure-skip-tls-verify: true\nusers:\n- name: fake\n  user:\n    token: fake\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n`,
    );

    const env = {
      ...bus.env,
      DATABASE_URL: db.url,
      K_SINK: undefined,
      ESTAFETTE_JWT_KEY: JWT_KEY,
      ESTAFETTE_SECRET_KEY: randomBytes(32).toString('base64'),
      GITHUB_WEBHOOK_SECRET: SECRET,
      GITHUB_API_URL: githubUrl,
      JOB_RUNNER: 'kubernetes',
      KUBECONFIG: kubeconfig,
      JOB_NAMESPACE: 'bench',
      ESTAFETTE_LOG_INGEST_URL: 'http://log-ingest.bench',
      LOG_LEVEL: 'warn',
    };
    let seq = 0;
    const first: Record<FunctionName, FirstRequest> = {
      'webhook-ingest': (base) => {
        const body = githubPush({ owner: 'bench', name: 'cold', revision: randomBytes(20).toString('hex') });
        return { send: () => send(`${base}/api/integrations/github/events`, { method: 'POST', headers: githubHeaders(SECRET, body), body }), want: 202 };
      },
      'build-dispatch': (base) => {
        const id = randomUUID();
        const revision = createHash('sha1').update(id).digest('hex');
        const data = JSON.stringify({
          forge: 'github',
          repoSource: 'github.com',
          repoOwner: 'bench',
          repoName: 'cold',
          branch: 'main',
          revision,
          cloneUrl: 'https://github.com/bench/cold.git',
          deliveryId: id,
          commits: [],
          pusher: { name: 'bench' },
        });
        const headers = { 'ce-specversion': '1.0', 'ce-id': id, 'ce-type': 'ci.estafette.git.push', 'ce-source': '/bench', 'content-type': 'application/json' };
        return { send: () => send(base, { method: 'POST', headers, body: data }), want: 202 };
      },
      'log-ingest': (base) => {
        const body = JSON.stringify({ lines: [{ stage: 'build', run: 1, seq: seq++, time: new Date().toISOString(), stream: 'stdout', text: 'cold' }] });
        return { send: () => send(`${base}/api/ingest/builds/${build.id}/logs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body }), want: 202 };
      },
      'cron-relay': (base) => {
        const headers = { 'ce-specversion': '1.0', 'ce-id': randomUUID(), 'ce-type': 'ci.estafette.cron.tick', 'ce-source': '/bench', 'content-type': 'application/json' };
        return { send: () => send(base, { method: 'POST', headers, body: JSON.stringify({ time: new Date().toISOString() }) }), want: 202 };
      },
      'query-api': (base) => ({ send: () => send(`${base}/api/pipelines`), want: 200 }),
    };

    const startFunction = async (name: FunctionName, nodeArgs: string[] = []) => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const req = first[name](base);
      const t0 = performance.now();
      const proc = spawnFunction(name, { ...env, PORT: String(port) }, nodeArgs);
      try {
        const liveness = await until(() => send(`${base}/liveness`), 200, t0, proc);
        const handled = await until(req.send, req.want, t0, proc);
        return { liveness, handled, proc };
      } finally {
        await proc.stop();
      }
    };
    const bare = async () => {
      const port = await freePort();
      const t0 = performance.now();
      const proc = spawnBare(port);
      try {
        return await until(() => send(`http://127.0.0.1:${port}/`), 200, t0, proc);
      } finally {
        await proc.stop();
      }
    };
    const sameIo = async () => {
      const t0 = performance.now();
      const proc = spawnProcess(process.execPath, ['-e', SAME_IO_JS], { DATABASE_URL: db.url, NATS_URL: natsUrl, SUBJECT: `${bus.subjectPrefix}ci.estafette.cron.tick` });
      const code = await new Promise<number | null>((r) => proc.child.once('exit', (c) => r(c)));
      if (code !== 0) throw new Error(`same-I/O script failed: ${proc.output()}`);
      return performance.now() - t0;
    };

    // Warm the file system cache once, as a deployed image has it; the stream exists from then on.
    await startFunction('webhook-ingest').catch(() => undefined);
    await sameIo();

    // In turns: every round starts each server once, so drift on a noisy machine hits all alike.
    const bareTimes: number[] = [];
    const ioTimes: number[] = [];
    const fnTimes = new Map<FunctionName, { liveness: number[]; handled: number[] }>(FUNCTION_NAMES.map((n) => [n, { liveness: [], handled: [] }]));
    const failures: string[] = [];
    for (let i = 0; i < starts; i++) {
      bareTimes.push(await bare());
      ioTimes.push(await sameIo());
      for (const name of FUNCTION_NAMES) {
        try {
          const s = await startFunction(name);
          fnTimes.get(name)!.liveness.push(s.liveness);
          fnTimes.get(name)!.handled.push(s.handled);
        } catch (err) {
          if (i === 0) failures.push(`${name}: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`);
        }
      }
    }
    const base = median(bareTimes);
    const io = median(ioTimes);
    const rows: Array<Array<string | number>> = [
      ['bare node http (liveness baseline)', ms(base), '1.0×', '', '', '', ''],
      ['plain JS: PostgreSQL connect + query, NATS connect + publish (first-request baseline)', '', '', '', ms(io), '1.0×', ''],
    ];
    const missed: Array<{ name: FunctionName; ratio: number }> = [];
    for (const name of FUNCTION_NAMES) {
      const t = fnTimes.get(name)!;
      if (!t.liveness.length) {
        rows.push([name, 'did not start', '', '', '', '', '']);
        continue;
      }
      const live = median(t.liveness) / base;
      const handled = median(t.handled) / io;
      rows.push([name, ms(median(t.liveness)), `${live.toFixed(2)}×`, live <= 1.5 ? 'met' : 'missed', ms(median(t.handled)), `${handled.toFixed(2)}×`, handled <= 1.5 ? 'met' : 'missed']);
      if (live > 1.5 || handled > 1.5) missed.push({ name, ratio: Math.max(live, handled) });
    }
    const tbl = table(['server', 'spawn → /liveness 200 (median ms)', 'vs bare', 'goal ≤ 1.5×', 'spawn → first real request handled (ms)', 'vs same-I/O script', 'goal ≤ 1.5×'], rows);
    console.log(tbl);
    let body = `Median of ${starts} starts each, taken in turns; each function is its bundle run as its image runs it, with PostgreSQL and NATS JetStream (JOB_RUNNER=kubernetes against the REST contract server, the manifest from a GitHub contents API stand-in). The first real request: webhook-ingest a signed push (202), build-dispatch a binary-mode \`ci.estafette.git.push\` CloudEvent (202 once the Job is created), log-ingest one batch, cron-relay one tick, query-api \`GET /api/pipelines\`.\n\n${tbl}\n`;
    if (failures.length) body += `\n${failures.map((f) => `- ${f}`).join('\n')}\n`;

    const worst = missed.sort((a, b) => b.ratio - a.ratio)[0];
    if (worst) {
      const dir = mkdtempSync(join(tmpdir(), 'bench-prof-'));
      defer(() => rmSync(dir, { recursive: true, force: true }));
      await startFunction(worst.name, ['--cpu-prof', '--cpu-prof-dir', dir]);
      try {
        body += `\nGoal missed. Profile of one start of ${worst.name} up to its first handled request (\`node --cpu-prof\`, source-mapped to packages):\n\n`;
        body += profileMarkdown(summariseProfileDir(dir));
      } catch (err) {
        body += `\n(profile not written: ${(err as Error).message})\n`;
      }
    }
    writeSection('cold-start', section('Cold start', body));
  });
}
