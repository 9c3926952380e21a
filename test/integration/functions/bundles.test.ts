/**
 * The functions as production runs them — their bundles (`node dist/functions/<name>.mjs`) on real
 * NATS and PostgreSQL: liveness before anything else, readiness that tells the truth about the
 * database and the bus (503 with the reason), a webhook redelivery dropped by JetStream's
 * duplicate window without any database, a missing required setting refusing to start, and
 * SIGTERM ending the process with 0.
 */
import { expect } from 'chai';
import { connect } from 'nats';
import { freePort } from '../../../cli/start/database.ts';
import { freshDatabase, requireService, uniqueName } from '../../support/services.ts';
import { spawnFunction, waitFor, waitForHttp, type Proc } from '../../support/processes.ts';
import { githubHeaders, githubPush } from '../../support/webhooks.ts';

const CLOSED = 'postgres://postgres@127.0.0.1:1/none';

describe('function bundles: health, readiness and the webhook hot path', function () {
  this.timeout(60_000);
  let natsUrl: string;
  let dbUrl: string;
  let drop: () => Promise<void>;
  const procs: Proc[] = [];
  const stream = uniqueName('BUNDLES');
  const bus = { ESTAFETTE_BUS_STREAM: stream, ESTAFETTE_BUS_SUBJECT_PREFIX: `${stream.toLowerCase()}.` };

  before(async function () {
    natsUrl = await requireService(this, 'nats');
    ({ url: dbUrl, drop } = await freshDatabase(await requireService(this, 'postgres'), 'bundles'));
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await drop?.();
    const nc = await connect({ servers: natsUrl }).catch(() => undefined);
    if (nc) {
      const jsm = await nc.jetstreamManager();
      for (const s of [stream, `${stream}_DLQ`]) await jsm.streams.delete(s).catch(() => false);
      await nc.close();
    }
  });

  const start = async (name: Parameters<typeof spawnFunction>[0], env: Record<string, string | undefined>) => {
    const port = await freePort();
    const proc = spawnFunction(name, { K_SINK: undefined, NATS_URL: undefined, DATABASE_URL: undefined, ESTAFETTE_JWT_KEY: 'k', LOG_LEVEL: 'warn', ...env, PORT: String(port) });
    procs.push(proc);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/liveness`).catch((err) => {
      throw new Error(`${(err as Error).message}\n${proc.output()}`);
    });
    return { url, proc };
  };

  it('readiness is 503 with the reason while the database is unreachable, 200 once it is there', async () => {
    const down = await start('query-api', { DATABASE_URL: CLOSED });
    const res = await fetch(`${down.url}/readiness`);
    expect(res.status).to.equal(503);
    const body = (await res.json()) as { status: string; reason: string };
    expect(body.status).to.equal('not ready');
    expect(body.reason).to.match(/^database: /);
    expect(body.reason).to.not.include('postgres://'); // no URL (which may carry a password) in an answer

    const up = await start('query-api', { DATABASE_URL: dbUrl });
    expect((await fetch(`${up.url}/readiness`)).status).to.equal(200);
  });

  it('readiness is 503 naming the bus while NATS is unreachable', async () => {
    const { url } = await start('webhook-ingest', { NATS_URL: 'nats://127.0.0.1:1', GITHUB_WEBHOOK_SECRET: 's', ...bus });
    const res = await fetch(`${url}/readiness`);
    expect(res.status).to.equal(503);
    expect(((await res.json()) as { reason: string }).reason).to.match(/^bus: /);
  });

  it('a redelivered webhook is dropped by the stream, answered as a duplicate, and never touches a database', async () => {
    // No DATABASE_URL at all: the webhook path needs none.
    const { url } = await start('webhook-ingest', { NATS_URL: natsUrl, GITHUB_WEBHOOK_SECRET: 's', ...bus });
    await waitFor('readiness', async () => (await fetch(`${url}/readiness`)).ok);
    const body = githubPush({ revision: 'c'.repeat(40) });
    const headers = githubHeaders('s', body, 'push', 'delivery-1');
    const post = async () => {
      const res = await fetch(`${url}/api/integrations/github/events`, { method: 'POST', headers, body: new Uint8Array(body) });
      return { status: res.status, body: (await res.json()) as { eventId: string; duplicate?: boolean } };
    };
    const first = await post();
    const second = await post();
    expect(first.status).to.equal(202);
    expect(first.body.duplicate).to.equal(undefined);
    expect(second.status).to.equal(202);
    expect(second.body).to.include({ eventId: first.body.eventId, duplicate: true });
    const nc = await connect({ servers: natsUrl });
    try {
      const info = await (await nc.jetstreamManager()).streams.info(stream);
      // The push and the same delivery for bots (forge.event), each stored once.
      expect(info.state.messages).to.equal(2);
    } finally {
      await nc.close();
    }
  });

  it('a function missing a required setting refuses to start with one line naming it', async () => {
    const port = await freePort();
    const proc = spawnFunction('build-dispatch', { PORT: String(port), DATABASE_URL: dbUrl, ESTAFETTE_JWT_KEY: '', K_SINK: undefined, NATS_URL: undefined });
    procs.push(proc);
    const code = await new Promise<number | null>((r) => (proc.child.exitCode !== null ? r(proc.child.exitCode) : proc.child.once('exit', r)));
    expect(code).to.equal(1);
    const lines = proc.output().trim().split('\n');
    const last = JSON.parse(lines.at(-1)!) as { level: string; msg: string; variable: string };
    expect(last).to.include({ level: 'fatal', variable: 'ESTAFETTE_JWT_KEY' });
    expect(proc.output()).to.not.match(/\n\s+at /); // no stack trace
  });

  it('SIGTERM ends a serving function with exit code 0', async () => {
    const { proc } = await start('log-ingest', { DATABASE_URL: dbUrl });
    const exited = new Promise<number | null>((r) => proc.child.once('exit', r));
    proc.child.kill('SIGTERM');
    expect(await exited).to.equal(0);
  });
});
