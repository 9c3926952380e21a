/**
 * cron-relay as it runs on Knative: its own process on functions-framework (its bundle, dist/functions/cron-relay.mjs),
 * receiving PingSource's binary-mode `dev.knative.sources.ping` CloudEvents (data `{"time": ""}`,
 * the minute in the `ce-time` header) and publishing to a Broker stand-in at K_SINK, with the
 * kubernetes runner from KUBECONFIG for housekeeping. PostgreSQL is real.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../cli/start/database.ts';
import { spawnFunction, waitFor, waitForHttp, type Proc } from '../../support/processes.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { DispatchHarness, JOB_NAMESPACE } from '../triggers/harness.ts';

const MANIFEST = `
triggers:
- cron:
    schedule: "* * * * *"
  builds:
    branch: main
stages:
  build:
    image: alpine:3.20
    commands: ["true"]
`;

describe('cron-relay over HTTP (functions-framework process)', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let h: DispatchHarness;
  let broker: Server;
  let proc: Proc;
  let url = '';
  const received: Array<{ type: string; id: string; body: { repoName?: string; trigger?: { event: string } } }> = [];

  before(async function () {
    db = await migratedDatabase(this);
    h = await DispatchHarness.start(db);
    await h.repo('pinged', MANIFEST).push();

    broker = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        received.push({ type: String(req.headers['ce-type']), id: String(req.headers['ce-id']), body: JSON.parse(raw) });
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((r) => broker.listen(0, '127.0.0.1', r));
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kube-')), 'config');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${h.api.url}\n    insecure-skip-tls-verify: true\nusers:\n- name: fake\n  user:\n    token: fake\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n`,
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    proc = spawnFunction('cron-relay', {
      DATABASE_URL: db.url,
      K_SINK: `http://127.0.0.1:${(broker.address() as { port: number }).port}`,
      NATS_URL: undefined,
      PORT: String(port),
      KUBECONFIG: kubeconfig,
      JOB_RUNNER: 'kubernetes',
      JOB_NAMESPACE,
    });
    await waitForHttp(`${url}/liveness`);
  });
  after(async () => {
    await proc?.stop();
    broker?.close();
    await h?.stop();
    await db?.close();
  });

  const ping = (time: string, body = '{"time": ""}', type = 'dev.knative.sources.ping') =>
    fetch(url, {
      method: 'POST',
      headers: { 'ce-specversion': '1.0', 'ce-id': `ping-${Math.random()}`, 'ce-source': '/apis/v1/namespaces/estafette/pingsources/estafette-cron', 'ce-type': type, 'ce-time': time, 'content-type': 'application/json' },
      body,
    });

  it('a PingSource tick fires the due cron trigger once, however often it is delivered', async () => {
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    for (let i = 0; i < 2; i++) {
      const res = await ping(minute);
      expect(res.status, proc.output()).to.equal(202);
    }
    await waitFor('the cron build request', () => received.some((e) => e.type === 'ci.estafette.build.requested'), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const requests = received.filter((e) => e.type === 'ci.estafette.build.requested');
    expect(requests).to.have.length(1);
    expect(requests[0].body.trigger?.event).to.equal('cron');
  });

  const refused: Array<{ name: string; send: () => Promise<Response>; status: number; message: RegExp }> = [
    { name: 'a tick whose time is not ISO-8601', send: () => ping('yesterday', '{"time": "yesterday"}'), status: 400, message: /not an ISO-8601 time/ },
    { name: 'a body that is not a CloudEvent', send: () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), status: 400, message: /CloudEvent|tick/ },
  ];
  refused.forEach((c) =>
    it(`answers ${c.status} with a JSON message to ${c.name}`, async () => {
      const res = await c.send();
      expect(res.status).to.equal(c.status);
      const body = (await res.json()) as { message: string };
      expect(body.message).to.match(c.message);
      expect(JSON.stringify(body)).to.not.match(/\bat .*\.ts:\d+/);
    }),
  );

  it('acknowledges and ignores event types that are not ticks', async () => {
    const res = await ping(new Date().toISOString(), '{}', 'ci.estafette.build.finished');
    expect(res.status).to.equal(202);
    expect(await res.json()).to.deep.include({ ignored: true });
  });
});
