/**
 * The build queue with two build-dispatch instances in their own processes, sharing NATS
 * JetStream's durable consumers and one PostgreSQL, and a restart in the middle: instance A is
 * killed (SIGKILL) at its first Job start — admission committed, no Job yet — and comes back;
 * instance B is stopped and restarted later. A Kubernetes REST stand-in holds the Jobs and an
 * in-test "kubelet" plays each Job's builder against the real log-ingest once its Secret is
 * there. Cron-relay's tick is stood in for by a `queue.advance` every half second. With
 * `concurrency: {builds: 1}` and five pushes on five branches: every build runs exactly once,
 * all succeed, and no two ever run at the same time.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import { connectJetStreamBus, type JetStreamBus } from '../../../shared/bus/jetstream.ts';
import { MemoryLiveLogs } from '../../../shared/bus/live-logs.ts';
import { publisher } from '../../../shared/runtime/runtime.ts';
import { getPipeline } from '../../../shared/db/pipelines.ts';
import { listBuilds, type Build } from '../../../shared/db/builds.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { makeHandler as makeLogIngest } from '../../../functions/log-ingest/handler.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import { tempRepo, type TempRepo } from '../../support/git-repo.ts';
import { silentLogger } from '../../support/logger.ts';
import { spawnNode, waitFor, type Proc } from '../../support/processes.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { neverOverlap } from './harness.ts';

const INSTANCE = fileURLToPath(new URL('../../fixtures/scheduling/dispatch-instance.ts', import.meta.url));
const JWT_KEY = 'instances-test-jwt-key';
const NAMESPACE = 'ci-jobs';
const MANIFEST = 'concurrency:\n  builds: 1\nstages:\n  build:\n    image: alpine:3.20\n    commands: [make]\n';

describe('scheduling: two build-dispatch processes and a restart in the middle', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let natsUrl: string;
  let kube: FakeKubeApi;
  let bus: JetStreamBus;
  let names: { stream: string; deadLetterStream: string; subjectPrefix: string };
  let repo: TempRepo;
  const procs: Proc[] = [];
  let ticker: ReturnType<typeof setInterval> | undefined;
  let kubelet: ReturnType<typeof setInterval> | undefined;

  before(async function () {
    natsUrl = await requireService(this, 'nats');
    db = await migratedDatabase(this);
    kube = await new FakeKubeApi().start();
    const name = uniqueName('INST');
    names = { stream: `${name}_EV`, deadLetterStream: `${name}_EV_DLQ`, subjectPrefix: `${name}.` };
    bus = await connectJetStreamBus({ url: natsUrl, ...names, log: silentLogger });
    repo = tempRepo('instances', 'main', 'team');
  });
  after(async () => {
    clearInterval(ticker);
    clearInterval(kubelet);
    await Promise.all(procs.map((p) => p.stop()));
    await bus?.close();
    const nc = await connect({ servers: natsUrl });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(names.stream).catch(() => {});
    await jsm.streams.delete(names.deadLetterStream).catch(() => {});
    await nc.close();
    await kube?.stop();
    repo?.remove();
    await db?.close();
  });

  it('every build runs exactly once, all five succeed, never two at a time', async () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kube-')), 'config');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${kube.url}\n    insecure-skip-tls-verify: true\nusers:\n- name: fake\n  user:\n    token: fake\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n`,
    );
    const env = (instance: string, extra: Record<string, string> = {}) => ({
      DATABASE_URL: db.url,
      NATS_URL: natsUrl,
      K_SINK: undefined,
      ESTAFETTE_BUS_STREAM: names.stream,
      ESTAFETTE_BUS_SUBJECT_PREFIX: names.subjectPrefix,
      JOB_RUNNER: 'kubernetes',
      KUBECONFIG: kubeconfig,
      JOB_NAMESPACE: NAMESPACE,
      ESTAFETTE_JWT_KEY: JWT_KEY,
      ESTAFETTE_LOG_INGEST_URL: 'http://log-ingest.test',
      ESTAFETTE_ADMITTED_START_GRACE_SECONDS: '2',
      TEST_ACK_WAIT_MS: '3000',
      TEST_INSTANCE: instance,
      LOG_LEVEL: 'info',
      ...extra,
    });
    const start = async (instance: string, extra: Record<string, string> = {}): Promise<Proc> => {
      const p = spawnNode([INSTANCE], env(instance, extra));
      procs.push(p);
      await waitFor(`instance ${instance} to be ready`, () => p.output().includes('dispatch instance ready') || p.child.exitCode !== null, 30_000);
      if (p.child.exitCode !== null) throw new Error(`instance ${instance} exited:\n${p.output()}`);
      return p;
    };

    // The in-test kubelet: a Job whose Secret exists gets one builder run, reported to log-ingest.
    const logIngest = makeLogIngest({ pool: db.pool, liveLogs: new MemoryLiveLogs(), publish: publisher(bus, '/test/log-ingest'), jwtKey: JWT_KEY, log: silentLogger });
    const runs = new Map<string, number>();
    const report = (kind: string, id: string, token: string, status: string) => {
      const req: HttpRequest = {
        method: 'POST',
        path: `/api/ingest/${kind}s/${id}/status`,
        query: new URLSearchParams(),
        headers: { authorization: `Bearer ${token}` },
        rawBody: Buffer.from(JSON.stringify({ status })),
        signal: new AbortController().signal,
      };
      return logIngest(req);
    };
    const playing = new Set<string>();
    kubelet = setInterval(() => {
      for (const job of kube.jobs()) {
        const name = job.metadata.name;
        const secret = kube.objects.get(`/secrets/${NAMESPACE}/${name}`);
        if (playing.has(name) || !secret) continue;
        playing.add(name);
        const cfg = JSON.parse(secret.stringData['builder-config.json']) as { job: { kind: string; id: string }; ingest: { token: string } };
        runs.set(cfg.job.id, (runs.get(cfg.job.id) ?? 0) + 1);
        void (async () => {
          await report(cfg.job.kind, cfg.job.id, cfg.ingest.token, 'running');
          await new Promise((r) => setTimeout(r, 300));
          await report(cfg.job.kind, cfg.job.id, cfg.ingest.token, 'succeeded');
          kube.setJobStatus(NAMESPACE, name, { succeeded: 1 });
        })();
      }
    }, 50);
    let ticks = 0;
    const publish = publisher(bus, '/test/cron-relay');
    ticker = setInterval(() => void publish('queue.advance', { reason: 'tick' }, { id: `tick-${ticks++}` }).catch(() => {}), 500);

    const ref = { repoSource: 'local', repoOwner: 'team', repoName: 'instances' };
    const push = async (branch: string) => {
      const { execFileSync } = await import('node:child_process');
      execFileSync('git', ['-C', repo.dir, 'checkout', '-q', '-B', branch]);
      const rev = repo.commit({ '.estafette.yaml': MANIFEST, [`${branch}.txt`]: branch });
      await publisher(bus, '/test/webhook-ingest')(
        'git.push',
        { forge: 'generic', ...ref, cloneUrl: `file://${repo.dir}`, branch, revision: rev, commits: [], pusher: { name: 'dev' }, deliveryId: branch },
        { id: `push-${branch}` },
      );
    };
    const builds = async (): Promise<Build[]> => {
      const p = await getPipeline(db.pool, ref);
      return p ? (await listBuilds(db.pool, { pipelineId: p.id, size: 100 })).items.sort((a, b) => a.buildNumber - b.buildNumber) : [];
    };

    // A alone first, so it is certainly the one that dies at its first Job start.
    const a = await start('A', { TEST_CRASH_ON_START: '1' });
    await push('b1');
    await waitFor('instance A to die at its first Job start', () => a.child.signalCode === 'SIGKILL', 20_000);
    expect(a.output()).to.match(/crashing at job start 1 \(build \d+\)/);
    const admittedButNoJob = (await builds())[0]!;
    expect(admittedButNoJob.buildStatus).to.equal('pending');
    expect(kube.jobs()).to.have.length(0);

    const b = await start('B');
    await start('A2');
    for (const branch of ['b2', 'b3', 'b4', 'b5']) await push(branch);
    await waitFor('two builds succeeded', async () => (await builds()).filter((x) => x.buildStatus === 'succeeded').length >= 2, 40_000);
    // B goes away gracefully and comes back while the queue is still long.
    await b.stop();
    await start('B2');

    const done = await waitFor(
      'all five builds succeeded',
      async () => {
        const bs = await builds();
        return bs.length === 5 && bs.every((x) => x.buildStatus === 'succeeded') && bs;
      },
      60_000,
      100,
    );
    const outputs = procs.map((p) => p.output()).join('\n');
    // Two instances take pushes side by side, so arrival (build numbers) may differ from publish order.
    expect(done.map((x) => x.repoBranch).sort()).to.deep.equal(['b1', 'b2', 'b3', 'b4', 'b5']);
    // Exactly once: one builder run and one created Job per build, no build left behind.
    expect([...runs.entries()].sort(), outputs).to.deep.equal(done.map((x) => [x.id, 1]).sort());
    const jobCreates = kube.requests.filter((r) => r.verb === 'create' && r.resource === 'jobs').map((r) => r.body.metadata.labels['estafette.io/job-id']);
    expect(new Set(jobCreates).size).to.equal(5);
    expect(kube.jobs()).to.have.length(5);
    expect(neverOverlap(done), JSON.stringify(done.map((x) => [x.buildNumber, x.startedAt, x.finishedAt]))).to.equal(true);
    // The build A admitted before it died was started by another instance.
    expect(outputs).to.match(new RegExp(`build ${admittedButNoJob.id} (was admitted but has no Job: starting it again|\\(#1, [^)]*\\) of local/team/instances@b1 started|started)`));
  });
});
