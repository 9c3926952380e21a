/**
 * Every image of the Dockerfile, run as production runs it. The targets are built from the real
 * Dockerfile (docker/build-images.sh, on the base images docker/base-images.sh makes); each
 * function image runs with the environment and security context knative/base gives its Knative
 * Service (user, no capabilities, no privilege escalation, read-only root, memory limit) plus
 * what Knative and the SinkBinding set, against the machine's PostgreSQL and NATS, a Broker
 * stand-in at K_SINK and a Kubernetes API that speaks the REST contract. Each answers its
 * readiness probe and one real request; the migrate Job's command runs in query-api's image; the
 * builder runs a build exactly as the Job build-dispatch created would run it (its user, its
 * volumes, a root-owned work dir, git clone over HTTP, the stage in a container of the
 * docker-in-docker stand-in) reporting to the log-ingest container; the UI answers with its
 * index.html fallback; and every container stops on SIGTERM within 10 s with exit code 0.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { signJobToken } from '../../shared/auth/job-token.ts';
import { getBuild } from '../../shared/db/builds.ts';
import { appendLogLines, readLogLines } from '../../shared/db/logs.ts';
import { createPool } from '../../shared/db/pool.ts';
import { FUNCTION_NAMES, type FunctionName } from '../../shared/http/functions.ts';
import { CONFIG_MOUNT_DIR, WORK_DIR } from '../../shared/k8s/job-spec.ts';
import { HOUSEKEEPING_RBAC } from '../../shared/k8s/rbac.ts';
import { freePort } from '../../cli/start/database.ts';
import { dockerUnavailable, skipWithoutDocker } from '../builder/docker-engine.ts';
import type { FakeKubeApi } from '../support/fake-kube-api.ts';
import { tempRepo, type TempRepo } from '../support/git-repo.ts';
import { requireService, uniqueName } from '../support/services.ts';
import { githubHeaders, githubPush } from '../support/webhooks.ts';
import { lines, readSse, seed } from '../integration/query-api/harness.ts';
import type { BrokerStandIn } from './broker-stand-in.ts';
import { startDindStandIn } from './dind-stand-in.ts';
import { at, ofKind, requireKubectl, type K8sObject, type Located } from './documents.ts';
import { allowFetchById, startGitHttpServer, type GitHttpServer } from './git-http-server.ts';
import { baseImagesMissing, buildImages, envSources, functionEnvironment, localImage, migrateJob, type FunctionEnvironment, type KnativeFunction } from './image-system.ts';
import { docker, handle, quantityBytes, rssMiB, runArgs, runContainer, securityFlags, waitFor200, type ContainerSpec, type RunningContainer, type SecurityContext } from './knative-container.ts';

const RUN = uniqueName('img').toLowerCase();
const CLIENT = { clientId: 'ci-bot', clientSecret: randomBytes(12).toString('hex') };
const WEBHOOK_SECRET = randomBytes(12).toString('hex');
const JWT_KEY = randomBytes(24).toString('hex');
const OWNER = 'estafette';
const REPO = 'containerized';
// Stages run in the docker executor's containers, from the engine's local test image.
const MANIFEST = `builder:
  track: stable
stages:
  build:
    image: estafette-test/busybox:1
    commands:
    - echo hello from the build
    - cat README.md
    - echo built > output.txt
`;

/** Waits until `check` holds (polling), or fails naming `what`. */
async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('deploy: the images run as their Knative Services and Job pods run them', function () {
  this.timeout(120_000);
  let sys: FunctionEnvironment;
  let objs: Located[];
  let services: Map<string, KnativeFunction>;
  let pool: pg.Pool;
  let broker: BrokerStandIn;
  let kube: FakeKubeApi;
  let github: Server;
  let git: GitHttpServer;
  let repo: TempRepo;
  let work: string;
  let natsUrl = '';
  const running = new Map<string, RunningContainer>();

  /** Starts a function's container as its Knative Service runs it (env changes: `undefined` removes). */
  const runFunction = async (name: FunctionName, env: Record<string, string | undefined> = {}, containerName?: string): Promise<RunningContainer> =>
    runContainer(
      await sys.runOptions(name, {
        env,
        ...(containerName ? { containerName } : {}),
        ...(running.get('log-ingest') ? { logIngestUrl: running.get('log-ingest')!.url } : {}),
        githubApiUrl: `http://127.0.0.1:${(github.address() as AddressInfo).port}`,
      }),
    );

  before(async function () {
    this.timeout(600_000);
    requireKubectl(this);
    const noEngine = await dockerUnavailable();
    if (noEngine) skipWithoutDocker(this, 'the container checks', noEngine);
    const noBase = baseImagesMissing();
    if (noBase) skipWithoutDocker(this, 'the container checks', noBase);
    const pgServer = await requireService(this, 'postgres');
    natsUrl = await requireService(this, 'nats');
    buildImages();
    sys = await functionEnvironment({
      pgServer,
      natsUrl,
      run: RUN,
      secret: {
        GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
        ESTAFETTE_WEBHOOK_TOKEN: randomBytes(12).toString('hex'),
        ESTAFETTE_SECRET_KEY: randomBytes(32).toString('base64'),
        ESTAFETTE_JWT_KEY: JWT_KEY,
        ESTAFETTE_AUTH: JSON.stringify({ clients: [{ id: CLIENT.clientId, secret: CLIENT.clientSecret, role: 'administrator' }] }),
      },
    });
    ({ objs, services, broker, kube } = sys);
    pool = createPool(sys.dbUrl, { max: 4 });
    // Build Jobs ask for BUILDER_IMAGE:<track>; this engine has the fresh build under that name.
    const builderRepo = String((ofKind(objs, 'ConfigMap').find((c) => c.metadata.name === 'estafette-builder-defaults')?.data as Record<string, string> | undefined)?.BUILDER_IMAGE);
    await docker('tag', localImage('builder'), `${builderRepo}:stable`);

    // The repository: served over smart HTTP (the clone) and through a GitHub contents API stand-in (the manifest).
    repo = tempRepo(REPO, 'main', OWNER);
    repo.commit({ '.estafette.yaml': MANIFEST, 'README.md': 'cloned over http\n' });
    allowFetchById(repo.dir);
    git = await startGitHttpServer(join(repo.dir, '..', '..'));
    github = createServer((req, res) => {
      if (req.method === 'GET' && req.url?.startsWith(`/repos/${OWNER}/${REPO}/contents/.estafette.yaml`)) return void res.end(MANIFEST);
      res.writeHead(req.method === 'POST' ? 201 : 404, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => github.listen(0, '127.0.0.1', r));
    work = mkdtempSync(join(tmpdir(), 'img-pod-'));
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all([...running.values()].map((c) => c.remove()));
    await docker('rm', '-f', `${RUN}-builder`, `${RUN}-no-sink`, `${RUN}-no-auth`, `${RUN}-git`).catch(() => undefined);
    await pool?.end();
    await sys?.stop();
    await git?.stop();
    github?.close();
    repo?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("the migrate Job's command applies the schema in query-api's image, and a second run (the next deploy) succeeds unchanged", async () => {
    const job = migrateJob(objs)!;
    const c = at(job, 'spec', 'template', 'spec', 'containers', 0) as ContainerSpec;
    expect(c.image).to.equal('estafette-query-api');
    const migrate = async (n: number) => {
      const name = `${RUN}-migrate-${n}`;
      const args = await runArgs({ name, container: c, image: localImage('query-api'), port: 0, sources: envSources(objs, { 'estafette-secrets': sys.secret }), env: { NATS_URL: natsUrl } });
      await docker(...args);
      const code = Number(await docker('wait', name));
      const logs = await handle(name, 0).logs();
      await docker('rm', '-f', name);
      return { code, logs };
    };
    const tables = async () => (await pool.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)).rows.map((r) => r.t);
    expect(await tables()).to.deep.equal([]);
    const first = await migrate(1);
    expect(first.code, first.logs).to.equal(0);
    const created = await tables();
    expect(created).to.include.members(['pipelines', 'builds', 'schema_migrations']);
    const second = await migrate(2);
    expect(second.code, second.logs).to.equal(0);
    expect(await tables()).to.deep.equal(created);
  });

  it('each function image starts with its Knative env and security context and answers its readiness probe', async function () {
    this.timeout(180_000);
    // log-ingest first: build-dispatch tells builders its address.
    running.set('log-ingest', await runFunction('log-ingest'));
    await waitFor200(running.get('log-ingest')!, services.get('log-ingest')!.probe);
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'log-ingest')) running.set(name, await runFunction(name));
    for (const name of FUNCTION_NAMES) {
      const c = running.get(name)!;
      const res = await waitFor200(c, services.get(name)!.probe);
      expect(await res.json()).to.deep.include({ status: 'ok', function: name });
      // What the engine enforces is what the manifest asks for.
      const [info] = JSON.parse(await docker('inspect', c.name)) as Array<{ Config: { User: string }; HostConfig: { CapDrop: string[]; ReadonlyRootfs: boolean; Memory: number; SecurityOpt: string[] } }>;
      const sc = services.get(name)!.container.securityContext!;
      expect(info!.Config.User, `${name} user`).to.match(/^[1-9]\d*(:\d+)?$/);
      expect(info!.HostConfig.CapDrop, name).to.deep.equal(['ALL']);
      expect(info!.HostConfig.SecurityOpt, name).to.include('no-new-privileges');
      expect(info!.HostConfig.ReadonlyRootfs, name).to.equal(Boolean(sc.readOnlyRootFilesystem));
      expect(info!.HostConfig.Memory, name).to.equal(quantityBytes(String(services.get(name)!.container.resources?.limits?.memory)));
      // The memory request is set from this figure: an idle function must fit in it.
      expect(await rssMiB(c.name), `${name}: idle RSS (MiB) within its memory request`).to.be.below(quantityBytes(String(services.get(name)!.container.resources?.requests?.memory)) / 2 ** 20);
    }
  });

  it('a function on Knative without K_SINK (no SinkBinding yet) is live but not ready', async () => {
    const c = await runFunction('webhook-ingest', { K_SINK: undefined }, `${RUN}-no-sink`);
    try {
      await waitFor200(c, '/liveness');
      const res = await fetch(`${c.url}/readiness`);
      expect(res.status).to.equal(503);
      expect(((await res.json()) as { reason: string }).reason).to.match(/K_SINK is not set/);
    } finally {
      await c.remove();
    }
  });

  it('a function on Knative without ESTAFETTE_AUTH refuses to start, naming the variable', async () => {
    const c = await runFunction('query-api', { ESTAFETTE_AUTH: undefined }, `${RUN}-no-auth`);
    try {
      const code = Number(await docker('wait', c.name));
      expect(code).to.equal(1);
      expect(await c.logs())
        .to.match(/ESTAFETTE_AUTH/)
        .and.to.match(/K_SERVICE/);
    } finally {
      await c.remove();
    }
  });

  it('webhook-ingest: a signed GitHub push → 202 and git.push at the Broker; its Trigger delivers it to build-dispatch, which creates the build and its Job', async () => {
    broker.subscribe(['ci.estafette.git.push'], running.get('build-dispatch')!.url);
    const payload = JSON.parse(githubPush({ owner: OWNER, name: REPO, branch: 'main', revision: repo.head() }).toString()) as { repository: { clone_url: string } };
    payload.repository.clone_url = `${git.url}/${OWNER}/${REPO}`;
    const body = Buffer.from(JSON.stringify(payload));
    const res = await fetch(`${running.get('webhook-ingest')!.url}/api/integrations/github/events`, { method: 'POST', headers: githubHeaders(WEBHOOK_SECRET, body), body: new Uint8Array(body) });
    expect(res.status, await running.get('webhook-ingest')!.logs()).to.equal(202);
    // Binary mode: the attributes travel as ce-* headers (the stand-in only takes those).
    const push = broker.received.find((e) => e.type === 'ci.estafette.git.push');
    expect(push?.source).to.equal('/estafette/webhook-ingest');
    expect(push?.delivered, await running.get('build-dispatch')!.logs()).to.be.within(200, 299);
    const job = await until('the Job', () => kube.jobs()[0]);
    expect(job.metadata.namespace).to.equal('estafette-jobs');
    expect(await until('the Job Secret', () => kube.requests.find((r) => r.verb === 'create' && r.resource === 'secrets'))).to.exist;
    const builds = await pool.query('SELECT status, revision FROM builds');
    expect(builds.rows).to.deep.equal([{ status: 'pending', revision: repo.head() }]);
  });

  it('builder: as its Job pod runs it (uid 1000, read-only root, no capabilities, root-owned emptyDir work dir) it clones over HTTP, runs the stage in a container and reports to log-ingest', async function () {
    this.timeout(120_000);
    const job = kube.jobs()[0] as K8sObject;
    const pod = at(job, 'spec', 'template', 'spec') as {
      containers: ContainerSpec[];
      initContainers?: ContainerSpec[];
      securityContext?: SecurityContext;
      volumes: Array<{ name: string; secret?: { items: Array<{ key: string; path: string }> }; emptyDir?: object }>;
    };
    const builder = pod.containers[0]!;
    const secretBody = kube.requests.find((r) => r.verb === 'create' && r.resource === 'secrets')!.body as { stringData: Record<string, string> };
    // The pod's volumes as directories: the Secret's items, and emptyDirs as the kubelet makes them (root, 0777).
    const dirs: Record<string, string> = {};
    for (const v of pod.volumes) {
      const dir = join(work, v.name);
      mkdirSync(dir, { recursive: true });
      if (v.secret) for (const item of v.secret.items) writeFileSync(join(dir, item.path), secretBody.stringData[item.key]!, { mode: 0o644 });
      else chmodSync(dir, 0o777);
      dirs[v.name] = dir;
    }
    // The docker-in-docker sidecar (the pod's only privileged container) shares the work volume.
    expect(pod.initContainers?.map((c) => c.name)).to.deep.equal(['dind']);
    const dind = await startDindStandIn(process.env.DOCKER_HOST!.replace(/^unix:\/\//, ''), WORK_DIR, dirs.work!);
    try {
      const env = Object.fromEntries((builder.env ?? []).map((e) => [e.name, e.value ?? '']));
      expect(env.DOCKER_HOST).to.equal('tcp://127.0.0.1:2375');
      const flags = securityFlags(builder, '', pod.securityContext);
      const args = ['run', '--name', `${RUN}-builder`, '--network', 'host', ...flags];
      for (const [k, v] of Object.entries({ ...env, DOCKER_HOST: dind.dockerHost })) args.push('-e', `${k}=${v}`);
      for (const m of builder.volumeMounts ?? []) args.push('-v', `${dirs[m.name]}:${m.mountPath}${m.readOnly ? ':ro' : ''}`);
      args.push(String(builder.image));
      expect(builder.image).to.match(/:stable$/);
      const code = await docker(...args).then(
        () => 0,
        (e: Error) => e,
      );
      const logs = await handle(`${RUN}-builder`, 0).logs();
      expect(code, `${logs}`).to.equal(0);
      expect(flags).to.include.members(['--read-only', '--user', '1000:1000']);
      expect(builder.volumeMounts?.find((m) => m.mountPath === CONFIG_MOUNT_DIR)?.readOnly).to.equal(true);

      const buildId = String(job.metadata.labels?.['estafette.io/job-id']);
      const build = await until('the build to succeed', async () => {
        const b = await getBuild(pool, buildId);
        return b && ['succeeded', 'failed'].includes(b.buildStatus) ? b : undefined;
      });
      const text = (await readLogLines(pool, 'build', buildId)).map((l) => l.text).join('\n');
      expect(build.buildStatus, text).to.equal('succeeded');
      expect(text)
        .to.match(/> git fetch/)
        .and.to.include('hello from the build')
        .and.to.include('cloned over http');
      expect(
        git.requests.some((p) => /git-upload-pack$/.test(p)),
        'cloned over smart HTTP',
      ).to.equal(true);
      expect(dind.created, 'the stage ran in a container').to.be.greaterThan(0);
      expect(readFileSync(join(dirs.work!, 'output.txt'), 'utf8')).to.equal('built\n');
      const finished = await until('build.finished at the Broker', () => broker.received.find((e) => e.type === 'ci.estafette.build.finished'));
      expect(finished.data).to.deep.include({ buildId, status: 'succeeded' });
    } finally {
      await dind.stop();
    }
  });

  it("builder: git trusts exactly the root-owned work dir, and refuses it without the image's trust — the defect the image fixes", async () => {
    const git = async (dir: string, mount: string, env: string[] = []) => {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
      const script = `cd ${mount} && git init -q . && git status --porcelain && echo trusted`;
      return docker('run', '--rm', '--name', `${RUN}-git`, '--user', '1000:1000', '--read-only', '-v', `${dir}:${mount}`, ...env, '--entrypoint', 'sh', localImage('builder'), '-c', script).then(
        (out) => out,
        (e: Error) => e.message,
      );
    };
    expect(await git(join(work, 'trusted'), WORK_DIR)).to.equal('trusted');
    // Without the system config (where the image keeps the trust) git refuses the emptyDir.
    expect(await git(join(work, 'untrusted'), WORK_DIR, ['-e', 'GIT_CONFIG_NOSYSTEM=1'])).to.match(/dubious ownership/);
    // Only that directory: another root-owned one is still refused.
    expect(await git(join(work, 'elsewhere'), '/elsewhere')).to.match(/dubious ownership/);
  });

  it("log-ingest: a log batch with the job's token is stored", async () => {
    const { builds } = await seed(pool, 'ingested', [{ status: 'running' }]);
    const id = builds[0]!.id;
    const token = await signJobToken(JWT_KEY, { kind: 'build', id });
    const res = await fetch(`${running.get('log-ingest')!.url}/api/ingest/builds/${id}/logs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ lines: lines(0, 25) }),
    });
    expect(res.status, await running.get('log-ingest')!.logs()).to.equal(202);
    expect(await res.json()).to.deep.equal({ accepted: 25, stored: 25 });
    expect(await readLogLines(pool, 'build', id)).to.have.length(25);
  });

  it("query-api: sign-in is required; a signed-in client lists pipelines and reads a build's log as an SSE stream", async () => {
    const api = running.get('query-api')!.url;
    const anonymous = (await (await fetch(`${api}/api/me`)).json()) as { authenticated: boolean; authEnabled: boolean };
    expect(anonymous).to.deep.include({ authenticated: false, authEnabled: true });
    expect((await fetch(`${api}/api/pipelines`)).status).to.equal(401);
    const login = await fetch(`${api}/api/auth/client/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-requested-with': 'test' }, body: JSON.stringify(CLIENT) });
    expect(login.status).to.equal(200);
    const auth = { authorization: `Bearer ${((await login.json()) as { token: string }).token}` };
    const list = await fetch(`${api}/api/pipelines`, { headers: auth });
    expect(list.status).to.equal(200);
    expect(((await list.json()) as { items: Array<{ repoName: string }> }).items.map((p) => p.repoName)).to.include(REPO);
    const buildId = String((await pool.query(`SELECT id FROM builds WHERE repo_name = $1`, [REPO])).rows[0].id);
    const { res, events } = await readSse(`${api}/api/pipelines/github.com/${OWNER}/${REPO}/builds/${buildId}/logs.stream`, { headers: auth, stop: (e) => e.event === 'close' });
    expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
    expect(
      events
        .filter((e) => e.event === 'log')
        .map((e) => JSON.parse(e.data).text)
        .join('\n'),
    ).to.include('hello from the build');
    expect(events.at(-1)?.event).to.equal('close');
  });

  it('cron-relay: a PingSource tick (binary-mode CloudEvent) runs housekeeping with only the Kubernetes rights of its own Role', async () => {
    // A build whose builder vanished: running, not updated for 10 minutes, no Job.
    const { builds } = await seed(pool, 'abandoned', [{ status: 'running' }]);
    await pool.query(`UPDATE builds SET updated_at = now() - interval '10 minutes' WHERE id = $1`, [builds[0]!.id]);
    const since = kube.requests.length;
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    const res = await fetch(running.get('cron-relay')!.url, {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': `ping-${RUN}`,
        'ce-source': '/apis/v1/namespaces/estafette/pingsources/estafette-cron',
        'ce-type': 'dev.knative.sources.ping',
        'ce-time': minute,
        'content-type': 'application/json',
      },
      body: '{"time": ""}',
    });
    expect(res.status, await running.get('cron-relay')!.logs()).to.equal(202);
    await until('housekeeping to fail the abandoned build', async () => (await getBuild(pool, builds[0]!.id))?.buildStatus === 'failed');
    const calls = kube.requests.slice(since).map((r) => `${r.apiGroup}/${r.resource}:${r.verb}`);
    const granted = HOUSEKEEPING_RBAC.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))));
    expect(calls).to.include('batch/jobs:list');
    expect(calls.filter((c) => !granted.includes(c))).to.deep.equal([]);
  });

  it('query-api: SIGTERM with a live SSE stream open ends it with a `reconnect` event and exits 0 within the grace period', async () => {
    const api = running.get('query-api')!;
    const login = await fetch(`${api.url}/api/auth/client/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-requested-with': 'test' }, body: JSON.stringify(CLIENT) });
    const auth = { authorization: `Bearer ${((await login.json()) as { token: string }).token}` };
    const { builds } = await seed(pool, 'streaming', [{ status: 'running' }]);
    await appendLogLines(pool, 'build', builds[0]!.id, lines(0, 3));
    let stopped: Promise<{ exitCode: number; ms: number }> | undefined;
    const { events } = await readSse(`${api.url}/api/pipelines/github.com/estafette/streaming/builds/${builds[0]!.id}/logs.stream`, {
      headers: auth,
      timeoutMs: 15_000,
      // The stream is open and live (its stored lines arrived): now Knative stops the instance.
      onEvent: (e) => void (e.event === 'log' && (stopped ??= api.stop(10))),
    });
    expect(stopped, 'the stream delivered its stored lines').to.not.equal(undefined);
    const { exitCode, ms } = await stopped!;
    expect(events.map((e) => e.event)).to.deep.equal(['log', 'log', 'log', 'reconnect']);
    expect(JSON.parse(events.at(-1)!.data)).to.deep.equal({ lastEventId: 2 });
    expect(exitCode, await api.logs()).to.equal(0);
    expect(ms, 'stopped before the kill at 10 s').to.be.below(10_000);
    running.delete('query-api');
  });

  it('frontend: nginx serves the UI as its Knative Service runs it, with the index.html fallback for client routes', async () => {
    const svc = services.get('frontend')!;
    const port = 8080;
    const name = `${RUN}-frontend`;
    // nginx listens on 8080 as built: give it its own network namespace and publish the port.
    const flags = securityFlags(svc.container, await docker('image', 'inspect', '-f', '{{.Config.User}}', localImage('frontend')));
    const hostPort = await freePort();
    await docker('run', '-d', '--name', name, '-p', `127.0.0.1:${hostPort}:${port}`, ...flags, localImage('frontend'));
    const c = handle(name, hostPort);
    running.set('frontend', c);
    await waitFor200(c, svc.probe);
    const index = await (await fetch(`${c.url}/`)).text();
    expect(index).to.match(/<!doctype html>/i);
    const deep = await fetch(`${c.url}/pipelines/github.com/estafette/x/builds/1`);
    expect(deep.status).to.equal(200);
    expect(await deep.text()).to.equal(index);
    const asset = readdirSync(join(process.cwd(), 'frontend/dist/assets')).find((f) => f.endsWith('.js'))!;
    const a = await fetch(`${c.url}/assets/${asset}`);
    expect(a.status).to.equal(200);
    expect(a.headers.get('cache-control')).to.match(/immutable/);
    expect((await fetch(`${c.url}/assets/missing.js`)).status, 'a missing asset is not the index').to.not.equal(200);
  });

  it('every container stops on SIGTERM within 10 s with exit code 0', async function () {
    this.timeout(120_000);
    const results: Record<string, { exitCode: number; ms: number }> = {};
    for (const [name, c] of running) results[name] = await c.stop(10);
    for (const [name, r] of Object.entries(results)) {
      expect(r.exitCode, `${name}: ${await running.get(name)!.logs()}`).to.equal(0);
      expect(r.ms, `${name} stopped before the kill at 10 s`).to.be.below(10_000);
    }
    expect(Object.keys(results).sort()).to.deep.equal([...FUNCTION_NAMES.filter((n) => n !== 'query-api'), 'frontend'].sort());
    expect(existsSync(work)).to.equal(true);
  });
});
