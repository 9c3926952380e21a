/**
 * Fault: `kill -9` of `estafette start` (local mode, no NATS) right after it accepted pushes.
 * Every push answered 202 must become exactly one build after a restart: the durable bus on
 * the local PostgreSQL stores an event before the webhook answers (shared/bus/postgres.ts), and
 * build-dispatch keys builds on the event id, so a redelivery after the crash builds nothing twice.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { freshDatabase, requireService } from '../support/services.ts';
import { tempRepo, type TempRepo } from '../support/git-repo.ts';
import { waitFor } from '../support/processes.ts';

const MANIFEST = `
stages:
  hello:
    image: alpine:3.20
    commands: ["echo hello"]
`;

const PUSHES = 100;

describe('faults: kill -9 of the local server after accepted pushes (durable local bus)', function () {
  this.timeout(240_000);
  let sys: LocalSystem | undefined;
  let db: { url: string; drop: () => Promise<void> } | undefined;
  let repo: TempRepo | undefined;

  before(async function () {
    db = await freshDatabase(await requireService(this, 'postgres'), 'crash');
  });
  after(async () => {
    await sys?.stop('SIGKILL');
    repo?.remove();
    await db?.drop().catch(() => {});
  });

  it(`${PUSHES} pushes answered 202, then kill -9: after a restart there are exactly ${PUSHES} builds, one per push`, async () => {
    // No NATS: the local default. One builder at a time keeps the machine free; the rest queue.
    const env = { DATABASE_URL: db!.url, NATS_URL: undefined, ESTAFETTE_MAX_RUNNING_BUILDS: '1', ESTAFETTE_CRON_INTERVAL_MS: '60000' };
    sys = await startLocalSystem({ env });
    repo = tempRepo(`crash-${randomBytes(3).toString('hex')}`);
    const revision = repo.commit({ '.estafette.yaml': MANIFEST });
    const push = async (i: number) => {
      const res = await fetch(`${sys!.url}/api/integrations/generic/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sys!.token}`, 'x-delivery-id': `crash-${i}` },
        body: JSON.stringify({ repository: `file://${repo!.dir}`, branch: 'main', revision }),
      });
      await res.body?.cancel();
      return res.status;
    };
    const started = Date.now();
    const statuses: number[] = [];
    // Ten at a time, as a burst of webhooks arrives.
    for (let i = 0; i < PUSHES; i += 10) statuses.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => push(i + j)))));
    expect(
      statuses.filter((s) => s === 202),
      'pushes answered 202',
    ).to.have.length(PUSHES);
    const pool = new pg.Pool({ connectionString: db!.url, max: 2 });
    try {
      const count = async () => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM builds')).rows[0]!.n);
      // Crash at once: the pushes are accepted, most are not dispatched yet.
      process.kill(sys.child.pid!, 'SIGKILL');
      await sys.stop();
      const atCrash = await count();
      console.log(`      ${PUSHES} pushes accepted in ${Date.now() - started} ms; ${atCrash} builds existed at the kill -9`);

      sys = await startLocalSystem({ env, stateDir: sys.stateDir });
      const after = await waitFor(
        `${PUSHES} builds after the restart`,
        async () => {
          const n = await count();
          return n >= PUSHES ? n : undefined;
        },
        120_000,
        500,
      ).catch(async () => count());
      // Redeliveries have had a moment to (not) make more.
      await new Promise((r) => setTimeout(r, 2000));
      const final = await count();
      console.log(`      after the restart: ${final} builds (${Date.now() - started} ms since the first push)`);
      expect(after, `builds after the restart\n${sys.output().slice(-3000)}`).to.equal(PUSHES);
      expect(final).to.equal(PUSHES);
      const numbers = (await pool.query<{ n: string }>('SELECT number AS n FROM builds ORDER BY number')).rows.map((r) => Number(r.n));
      expect(numbers).to.deep.equal(Array.from({ length: PUSHES }, (_, i) => i + 1));
    } finally {
      await pool.end();
    }
  });
});
