/**
 * The production path over real HTTP: a signed GitHub push POSTed to webhook-ingest (its own
 * process, on functions-framework) reaches build-dispatch (another process) as a binary-mode
 * CloudEvent through a broker stand-in that forwards like a Knative Trigger; dispatch reads the
 * manifest from a GitHub contents API stand-in, writes the build to PostgreSQL and creates the
 * Job through client-node against the Kubernetes REST contract server.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { createPool } from '../../../shared/db/pool.ts';
import { migrate } from '../../../shared/db/migrate.ts';
import { freePort } from '../../../cli/start/database.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import { freshDatabase, requireService } from '../../support/services.ts';
import { spawnFunction, waitFor, waitForHttp, type Proc } from '../../support/processes.ts';
import { githubHeaders, githubPush } from '../../support/webhooks.ts';

const MANIFEST = 'version:\n  semver:\n    major: 2\n    minor: 3\nstages:\n  build:\n    image: golang:1.22\n    commands: ["go build"]\n';

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
};

describe('push to Job over real HTTP between functions', function () {
  this.timeout(60_000);
  let dbUrl: string;
  let drop: () => Promise<void>;
  let kube: FakeKubeApi;
  let github: Server;
  let broker: Server;
  let procs: Proc[] = [];
  let webhookUrl = '';
  const forwarded: Array<{ type: string; status: number }> = [];

  before(async function () {
    const server = await requireService(this, 'postgres');
    ({ url: dbUrl, drop } = await freshDatabase(server, 'fn'));
    const pool = createPool(dbUrl);
    await migrate(pool);
    await pool.end();

    kube = await new FakeKubeApi().start();
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kube-')), 'config');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${kube.url}\n    insecure-skip-tls-verify: true\nusers:\n- name: fake\n  user:\n    token: fake\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n`,
    );

    github = createServer((req, res) => {
      if (req.url?.startsWith('/repos/estafette/estafette-ci-api/contents/.estafette.yaml')) return res.end(MANIFEST);
      res.writeHead(404).end('{}');
    });
    const githubUrl = await listen(github);

    const dispatchPort = await freePort();
    const dispatchUrl = `http://127.0.0.1:${dispatchPort}`;
    // Broker stand-in: forwards each binary-mode CloudEvent to build-dispatch, like a Knative Trigger.
    broker = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', async () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && (k.startsWith('ce-') || k === 'content-type')) headers[k] = v;
        const type = headers['ce-type'] ?? '';
        if (!['ci.estafette.git.push', 'ci.estafette.build.requested'].includes(type)) return res.writeHead(202).end();
        const r = await fetch(dispatchUrl, { method: 'POST', headers, body: Buffer.concat(chunks) });
        forwarded.push({ type, status: r.status });
        res.writeHead(r.ok ? 202 : 502).end();
      });
    });
    const brokerUrl = await listen(broker);

    const webhookPort = await freePort();
    webhookUrl = `http://127.0.0.1:${webhookPort}`;
    const common = { DATABASE_URL: dbUrl, K_SINK: brokerUrl, NATS_URL: undefined };
    procs = [
      spawnFunction('build-dispatch', {
        ...common,
        PORT: String(dispatchPort),
        KUBECONFIG: kubeconfig,
        JOB_RUNNER: 'kubernetes',
        JOB_NAMESPACE: 'ci-jobs',
        ESTAFETTE_JWT_KEY: 'k',
        GITHUB_API_URL: githubUrl,
        ESTAFETTE_LOG_INGEST_URL: 'http://log-ingest.example',
      }),
      spawnFunction('webhook-ingest', { ...common, PORT: String(webhookPort), GITHUB_WEBHOOK_SECRET: 'gh-secret' }),
    ];
    await Promise.all([waitForHttp(`${dispatchUrl}/liveness`), waitForHttp(`${webhookUrl}/liveness`)]);
  });

  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    github?.close();
    broker?.close();
    await kube?.stop();
    await drop?.();
  });

  const push = async (revision: string) => {
    const body = githubPush({ revision });
    const res = await fetch(`${webhookUrl}/api/integrations/github/events`, { method: 'POST', headers: githubHeaders('gh-secret', body), body: new Uint8Array(body) });
    expect(res.status, procs.map((p) => p.output()).join('\n')).to.equal(202);
    return (await res.json()) as { eventId: string };
  };

  it('a signed push yields build 1 with the manifest version and one schema-valid Job; a second push build 2', async () => {
    await push('1'.repeat(40));
    await waitFor('the first Job', () => kube.jobs().length === 1, 20_000);
    const create = kube.requests.filter((r) => r.verb === 'create' && r.resource === 'jobs');
    expect(create).to.have.length(1);
    expect(() => new Job(create[0].body).validate()).not.to.throw();
    expect(create[0].namespace).to.equal('ci-jobs');

    const pool = createPool(dbUrl);
    try {
      const rows = async () => (await pool.query('SELECT number, version, status, revision FROM builds ORDER BY number')).rows;
      expect(await rows()).to.deep.equal([{ number: '1', version: '2.3.1', status: 'pending', revision: '1'.repeat(40) }]);
      await push('2'.repeat(40));
      await waitFor('the second Job', () => kube.jobs().length === 2, 20_000);
      expect((await rows()).map((r) => [r.number, r.version])).to.deep.equal([
        ['1', '2.3.1'],
        ['2', '2.3.2'],
      ]);
    } finally {
      await pool.end();
    }
    expect(forwarded.every((f) => f.status === 202)).to.equal(true);
  });

  it('a wrong signature is refused with 401 and publishes nothing', async () => {
    const before = forwarded.length;
    const body = githubPush({ revision: '3'.repeat(40) });
    const res = await fetch(`${webhookUrl}/api/integrations/github/events`, { method: 'POST', headers: githubHeaders('wrong', body), body: new Uint8Array(body) });
    expect(res.status).to.equal(401);
    expect(await res.json()).to.deep.equal({ status: 401, message: 'missing or wrong signature' });
    await new Promise((r) => setTimeout(r, 200));
    expect(forwarded.length).to.equal(before);
  });

  it('malformed JSON gets a JSON 400 from the framework-hosted function, not an HTML page', async () => {
    const res = await fetch(`${webhookUrl}/api/integrations/github/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ref":' });
    expect(res.status).to.equal(400);
    expect(res.headers.get('content-type')).to.match(/json/);
    expect(await res.text()).to.not.match(/at JSON\.parse|<html/i);
  });
});
