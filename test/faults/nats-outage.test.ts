/**
 * Faults of the bus on NATS, against `estafette start` over its own nats-server (test/faults/
 * services.ts) that requires a user and password given in NATS_URL:
 * - the URL's credentials are used (without them the server answers Authorization Violation) and
 *   never printed; wrong ones stop start-up with one line that names the URL without them;
 * - NATS away for 60 s: `/readiness` answers 503 with the reason all along, pushes fail with a
 *   clear 5xx instead of hanging; when NATS is back the same process takes pushes and log
 *   batches again, builds run to success, no restart.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { freshDatabase, requireService } from '../support/services.ts';
import { tempRepo, type TempRepo } from '../support/git-repo.ts';
import { waitFor } from '../support/processes.ts';
import { startOwnNats, type OwnService } from './services.ts';

const MANIFEST = `
stages:
  hello:
    image: alpine:3.20
    commands: ["for i in $(seq 1 500); do echo line $i; done"]
`;

/** How long NATS stays away (the issue: the client used to give up after ~20 s). */
const OUTAGE_MS = Number(process.env.ESTAFETTE_FAULTS_OUTAGE_MS ?? 60_000);
const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;

describe('faults: NATS credentials and a 60 s NATS outage (estafette start on its own nats-server)', function () {
  this.timeout(OUTAGE_MS + 180_000);
  let nats: OwnService & { bareUrl: string };
  let db: { url: string; drop: () => Promise<void> };
  let sys: LocalSystem | undefined;
  let repo: TempRepo;
  const env = () => ({ DATABASE_URL: db.url, NATS_URL: nats.url, ESTAFETTE_CRON_INTERVAL_MS: '60000' });

  before(async function () {
    db = await freshDatabase(await requireService(this, 'postgres'), 'natsfault');
    nats = await startOwnNats({ user: 'estafette', pass: PASSWORD });
    repo = tempRepo(`outage-${randomBytes(3).toString('hex')}`);
    repo.commit({ '.estafette.yaml': MANIFEST });
  });
  after(async () => {
    await sys?.stop('SIGKILL');
    await nats?.close();
    repo?.remove();
    await db?.drop().catch(() => {});
  });

  const readiness = async (s: LocalSystem) => {
    const res = await fetch(`${s.url}/readiness`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: (await res.json()) as { reason?: string } };
  };
  const push = async (s: LocalSystem, id: string) => {
    const res = await fetch(`${s.url}/api/integrations/generic/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${s.token}`, 'x-delivery-id': id },
      body: JSON.stringify({ repository: `file://${repo.dir}`, branch: 'main', revision: repo.head() }),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, text: await res.text() };
  };
  const builds = async (s: LocalSystem) => ((await s.api(`/api/pipelines/local/owner/${repo.dir.split('/').pop()}/builds`)).body.items ?? []) as Array<{ id: string; buildNumber: number; buildStatus: string }>;
  const buildDone = (s: LocalSystem, n: number) =>
    waitFor(
      `build ${n} to succeed`,
      async () => {
        const b = (await builds(s)).find((x) => x.buildNumber === n);
        return b && ['succeeded', 'failed', 'canceled'].includes(b.buildStatus) ? b : undefined;
      },
      90_000,
      250,
    );

  it('wrong credentials in NATS_URL: start-up stops with one line naming the URL without the password', async () => {
    const wrong = nats.url.replace(PASSWORD, 'not-the-password');
    let out = '';
    await startLocalSystem({ env: { ...env(), NATS_URL: wrong }, timeoutMs: 60_000 }).then(
      (s) => {
        sys = s;
        throw new Error('started with a wrong NATS password');
      },
      (err: Error) => (out = err.message),
    );
    expect(out).to.match(/Authorization Violation/i);
    expect(out).to.include(`nats://***@127.0.0.1:${nats.port}`);
    expect(out).not.to.include('not-the-password');
  });

  it('credentials in NATS_URL are used; NATS away 60 s → readiness 503, pushes 5xx; back → pushes and log batches work, no restart', async () => {
    sys = await startLocalSystem({ env: env() });
    expect(sys.output()).not.to.include(PASSWORD);
    expect((await readiness(sys)).status).to.equal(200);
    expect((await push(sys, 'before')).status).to.equal(202);
    const b1 = await buildDone(sys, 1);
    expect(b1.buildStatus, sys.output().slice(-3000)).to.equal('succeeded');

    const stoppedAt = Date.now();
    await nats.stop();
    const r = await waitFor(
      'readiness 503',
      async () => {
        const x = await readiness(sys!);
        return x.status === 503 ? x : undefined;
      },
      30_000,
      250,
    );
    expect(r.body.reason).to.match(/NATS/);
    const during: Array<{ at: number; readiness: number; push?: number }> = [];
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      const p = during.length % 4 === 0 ? (await push(sys, `during-${during.length}`)).status : undefined;
      during.push({ at: Date.now() - stoppedAt, readiness: (await readiness(sys)).status, ...(p ? { push: p } : {}) });
      await new Promise((res) => setTimeout(res, 2500));
    }
    console.log(
      `      NATS away ${Math.round((Date.now() - stoppedAt) / 1000)} s: ${during.length} readiness probes, all ${[...new Set(during.map((d) => d.readiness))].join('/')}; pushes answered ${[...new Set(during.flatMap((d) => (d.push ? [d.push] : [])))].join('/')}`,
    );
    expect(
      during.every((d) => d.readiness === 503),
      JSON.stringify(during),
    ).to.equal(true);
    expect(
      during.filter((d) => d.push).every((d) => d.push! >= 500),
      'a push while NATS is away is not accepted',
    ).to.equal(true);

    const backAt = Date.now();
    await nats.start();
    await waitFor('readiness 200 again', async () => (await readiness(sys!)).status === 200, 60_000, 250);
    console.log(`      readiness 200 again ${Date.now() - backAt} ms after NATS came back`);
    const after = await waitFor(
      'a push accepted again',
      async () => {
        const p = await push(sys!, `after-${Date.now()}`);
        return p.status === 202 ? p : undefined;
      },
      30_000,
      500,
    );
    expect(after.status).to.equal(202);
    // A new build: dispatched from JetStream, its log batches and statuses ingested and published.
    const b2 = await buildDone(sys, 2);
    expect(b2.buildStatus, sys.output().slice(-3000)).to.equal('succeeded');
    const logs = (await sys.api(`/api/pipelines/local/owner/${repo.dir.split('/').pop()}/builds/${b2.id}/loglines?limit=1000`)).body.items as Array<{ text: string }>;
    expect(logs.filter((l) => /^line \d+$/.test(l.text))).to.have.length(500);
    expect(sys.child.exitCode, 'the server kept running').to.equal(null);
    expect(sys.output()).not.to.include(PASSWORD);
  });
});
