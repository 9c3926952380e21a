/**
 * Benchmark 2, push to running build: how long from webhook-ingest's 202 to (a) build-dispatch's
 * Job create call at the Kubernetes API (kubernetes runner against FakeKubeApi, the REST contract
 * server of the tests) and (b) the builder's first stage starting (local runner: the builder's
 * first `running` stage report reaching an ingest endpoint in this process). Both functions run
 * as production processes (serve.ts) on real PostgreSQL; webhook-ingest publishes to JetStream
 * and a durable consumer in this process forwards each event to build-dispatch as a binary-mode
 * CloudEvent, the way a Knative Trigger delivers it. Pushes go one at a time, each waiting for
 * its result, so the figures are latencies, not queueing. The baseline is the same round trip
 * with nothing behind it: a POST to the bare server, and spawning a bare `node` process for (b).
 * Goal: p50 < 50 ms to the Job create call.
 */
import { HTTP, type CloudEvent } from 'cloudevents';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus } from '../shared/bus/index.ts';
import type { StatusReport } from '../shared/logs/protocol.ts';
import { FakeKubeApi } from '../test/support/fake-kube-api.ts';
import { tempRepo } from '../test/support/git-repo.ts';
import { githubHeaders, githubPush } from '../test/support/webhooks.ts';
import { spawnBare } from './bare-server.ts';
import { benchDatabase, benchStream, freePort, median, natsUrl, spawnFunction, waitFor, waitForHttp, withCleanup, type Proc } from './environment.ts';
import { ms, quantile, section, table, writeSection } from './report.ts';
import type { FunctionName } from '../shared/http/functions.ts';

const SECRET = 'bench-secret';
const MANIFEST = 'stages:\n  first:\n    image: alpine:3\n    commands: ["true"]\n';

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
};

const readBody = (req: import('node:http').IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => resolve(raw));
  });

/** Reports of builders, as log-ingest would receive them: first `running` stage and final status per build. */
class IngestRecorder {
  readonly firstRunning = new Map<string, { arrivedAt: number; startedAt: number; stage: string }>();
  readonly finished = new Set<string>();
  server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const m = /^\/api\/ingest\/builds\/([^/]+)\/status$/.exec(req.url ?? '');
    if (m) {
      const id = decodeURIComponent(m[1]!);
      const report = JSON.parse(raw) as StatusReport;
      const running = report.stages?.find((s) => s.status === 'running');
      if (running && !this.firstRunning.has(id)) {
        this.firstRunning.set(id, { arrivedAt: Date.now(), startedAt: Date.parse(running.startedAt ?? '') || NaN, stage: running.stage });
      }
      if (report.status && ['succeeded', 'failed', 'canceled'].includes(report.status)) this.finished.add(id);
    }
    res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
  });
}

function kubeconfigFor(url: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'bench-kube-')), 'config');
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${url}\n    insecure-skip-tls-verify: true\nusers:\n- name: fake\n  user:\n    token: fake\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n`,
  );
  return file;
}

/** Time to spawn a bare `node` that prints one line (the floor of starting any builder process). */
async function bareSpawnMs(): Promise<number> {
  const t = performance.now();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', 'console.log(1)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    c.stdout.once('data', () => resolve());
    c.once('error', reject);
  });
  return performance.now() - t;
}

const stats = (xs: number[]) => ({ p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), n: xs.length });

/** Runs the benchmark; 30 pushes per runner, 200 with `full`. */
export async function run({ full }: { full: boolean }): Promise<void> {
  const pushes = full ? 200 : 30;
  await withCleanup(async (defer) => {
    const db = await benchDatabase('bench_push');
    defer(db.drop);
    const bus = benchStream('BENCH_PUSH');
    defer(bus.drop);
    const repo = tempRepo('bench-app', 'main', 'bench');
    defer(() => repo.remove());
    const revision = repo.commit({ '.estafette.yaml': MANIFEST });

    const kube = await new FakeKubeApi().start();
    defer(() => kube.stop());
    const github = createServer((req, res) => {
      if (req.url?.startsWith('/repos/bench/bench-app/contents/.estafette.yaml')) return res.end(MANIFEST);
      res.writeHead(404).end('{}');
    });
    const githubUrl = await listen(github);
    defer(() => github.close());
    const ingest = new IngestRecorder();
    const ingestUrl = await listen(ingest.server);
    defer(() => ingest.server.close());

    const common = { DATABASE_URL: db.url, ...bus.env, K_SINK: undefined, ESTAFETTE_JWT_KEY: 'bench-key', GITHUB_API_URL: githubUrl, ESTAFETTE_LOG_INGEST_URL: ingestUrl };
    const start = async (name: FunctionName, env: Record<string, string>): Promise<{ proc: Proc; url: string }> => {
      const port = await freePort();
      const proc = spawnFunction(name, { ...common, ...env, PORT: String(port) });
      defer(proc.stop);
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/liveness`).catch((err) => {
        throw new Error(`${name}: ${(err as Error).message}\n${proc.output()}`);
      });
      return { proc, url };
    };
    const webhook = await start('webhook-ingest', { GITHUB_WEBHOOK_SECRET: SECRET });
    const dispatchKube = await start('build-dispatch', { JOB_RUNNER: 'kubernetes', JOB_NAMESPACE: 'ci-jobs', KUBECONFIG: kubeconfigFor(kube.url) });
    const dispatchLocal = await start('build-dispatch', { JOB_RUNNER: 'local', ESTAFETTE_EXECUTOR: 'host' });

    // The Knative Trigger's part: deliver each git.push to build-dispatch over HTTP, binary mode.
    let target = dispatchKube.url;
    const consumer = await createBus({ kind: 'jetstream', url: natsUrl, stream: bus.stream, deadLetterStream: `${bus.stream}_DLQ`, subjectPrefix: bus.subjectPrefix });
    defer(() => consumer.close());
    const sub = await consumer.subscribe(
      'build-dispatch',
      ['ci.estafette.git.push'],
      async (event: CloudEvent<unknown>) => {
        const msg = HTTP.binary(event);
        const res = await fetch(target, { method: 'POST', headers: msg.headers as Record<string, string>, body: msg.body as string });
        if (!res.ok) throw new Error(`build-dispatch answered ${res.status}: ${await res.text()}`);
      },
      { backoffMs: [200] },
    );
    defer(() => sub.stop());

    let n = 0;
    const push = async (): Promise<number> => {
      // Cloned from the temp repository, so the local builder's clone is real and offline.
      const payload = JSON.parse(githubPush({ owner: 'bench', name: 'bench-app', branch: 'main', revision }).toString());
      payload.repository.clone_url = repo.dir;
      const signed = Buffer.from(JSON.stringify(payload));
      const res = await fetch(`${webhook.url}/api/integrations/github/events`, { method: 'POST', headers: githubHeaders(SECRET, signed, 'push', `bench-${++n}`), body: signed.toString() });
      const at = Date.now();
      if (res.status !== 202) throw new Error(`webhook-ingest answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      return at;
    };
    const jobCreates = () => kube.requests.filter((r) => r.verb === 'create' && r.resource === 'jobs');
    const fail = (what: string) => (err: Error) => {
      throw new Error(`${err.message} (${what})\n${webhook.proc.output()}\n${dispatchKube.proc.output()}\n${dispatchLocal.proc.output()}`.slice(0, 4000));
    };

    // (a) kubernetes runner: 202 → Job create call.
    const toJob: number[] = [];
    for (let i = 0; i < pushes + 2; i++) {
      const before = jobCreates().length;
      const t0 = await push();
      const create = await waitFor('the Job create call', () => jobCreates()[before], 20_000, 1).catch(fail('kubernetes runner'));
      if (i >= 2) toJob.push(create.at - t0); // the first two warm the lazy dependencies up
    }

    // (b) local runner: 202 → the builder's first stage reported running.
    target = dispatchLocal.url;
    const toStage: number[] = [];
    const toStageStart: number[] = [];
    const firstStages = new Set<string>();
    const seen = new Set<string>();
    const localPushes = full ? pushes : Math.min(pushes, 20);
    for (let i = 0; i < localPushes + 1; i++) {
      const t0 = await push();
      const [id, first] = await waitFor('the first running stage report', () => [...ingest.firstRunning].find(([k]) => !seen.has(k)), 30_000, 1).catch(fail('local runner'));
      seen.add(id);
      firstStages.add(first.stage);
      if (i >= 1) {
        toStage.push(first.arrivedAt - t0);
        toStageStart.push(first.startedAt - t0);
      }
      // Let the builder finish so it does not compete with the next measurement.
      await waitFor('the build to finish', () => ingest.finished.has(id), 60_000, 5).catch(() => undefined);
    }

    // Baselines measured in the same run.
    const barePort = await freePort();
    const bare = spawnBare(barePort);
    defer(bare.stop);
    await waitForHttp(`http://127.0.0.1:${barePort}/`);
    const bareRtt: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await (await fetch(`http://127.0.0.1:${barePort}/`, { method: 'POST', body: '{}' })).arrayBuffer();
      bareRtt.push(performance.now() - t);
    }
    const spawns: number[] = [];
    for (let i = 0; i < 5; i++) spawns.push(await bareSpawnMs());

    const job = stats(toJob);
    const stage = stats(toStage);
    const stageStart = stats(toStageStart);
    const rows = [
      ['202 → Job create call (kubernetes runner)', job.n, ms(job.p50), ms(job.p99)],
      ['202 → first stage `running` report received (local runner)', stage.n, ms(stage.p50), ms(stage.p99)],
      ['202 → first stage startedAt (builder clock, local runner)', stageStart.n, ms(stageStart.p50), ms(stageStart.p99)],
      ['baseline: POST round trip to the bare node server', bareRtt.length, ms(quantile(bareRtt, 0.5)), ms(quantile(bareRtt, 0.99))],
      ['baseline: spawn a bare `node` process to its first output', spawns.length, ms(median(spawns)), ms(Math.max(...spawns))],
    ];
    const tbl = table(['path', 'pushes', 'p50 ms', 'p99 ms'], rows);
    console.log(tbl);
    let body = `Pushes one at a time (each waits for its result; the first ones, which build the functions' lazy connections, are left out), webhook-ingest → JetStream → build-dispatch as serve.ts processes on PostgreSQL. The builder's first stage is \`${[...firstStages].join(', ')}\`.\n\n${tbl}\n\n`;
    body += `- p50 to the Job create call: ${ms(job.p50)} ms (goal < 50 ms): **${job.p50 < 50 ? 'met' : 'missed'}**\n`;
    body += `- The local runner starts the builder from its bundle (\`node dist/builder.mjs\`), so the stage figures include one process start (a bare \`node\` alone: ${ms(median(spawns))} ms).\n`;
    writeSection('push-to-build', section('Push to running build', body));
  });
}
