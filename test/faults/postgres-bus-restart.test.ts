/**
 * Fault: the PostgreSQL under the local mode's durable bus crashes (SIGKILL of the postmaster)
 * and comes back. What was published before is still delivered, the delivery loops and the
 * LISTEN connection recover by themselves, and a publish while the database is away fails
 * (nothing is acknowledged that is not stored). Own PostgreSQL from test/faults/services.ts.
 */
import { expect } from 'chai';
import { connectPostgresBus, type PostgresBus } from '../../shared/bus/postgres.ts';
import { createPool } from '../../shared/db/pool.ts';
import { migrate } from '../../shared/db/migrate.ts';
import { makeEvent } from '../../shared/events/make.ts';
import { eventType } from '../../shared/events/types.ts';
import { recordingLogger } from '../support/logger.ts';
import { waitFor } from '../support/processes.ts';
import { startOwnPostgres, type OwnService } from './services.ts';

describe('faults: PostgreSQL under the durable bus crashes and returns (own PostgreSQL)', function () {
  this.timeout(90_000);
  let pg: OwnService;
  let pool: ReturnType<typeof createPool>;
  let bus: PostgresBus | undefined;
  before(async () => {
    pg = await startOwnPostgres();
    pool = createPool(pg.url, { max: 4, connectTimeoutMs: 2000, queryTimeoutMs: 5000, log: recordingLogger() });
    await migrate(pool);
  });
  after(async () => {
    await bus?.close();
    await pool?.end().catch(() => {});
    await pg?.close();
  });

  it('events published before the crash and after the restart are all delivered, once each; a publish meanwhile fails', async () => {
    const logs: string[] = [];
    bus = await connectPostgresBus({ pool, url: pg.url, pollMs: 200, log: recordingLogger(logs) });
    const seen: string[] = [];
    let hold = true;
    await bus.subscribe(
      'dispatch',
      [eventType('cron.tick')],
      async (e) => {
        // Not handled before the crash: they must come out of the database afterwards. A failure
        // the crash kept from being recorded leaves its event locked for the ack wait (2 s here).
        if (hold) throw new Error('not yet');
        seen.push(e.id);
      },
      { backoffMs: [200], maxDeliveries: 1000, ackWaitMs: 2000 },
    );
    const tick = (m: number) => makeEvent('cron.tick', { time: `2026-01-01T02:${String(m).padStart(2, '0')}:00Z` }, { source: '/t' });
    const before = [1, 2, 3, 4, 5].map(tick);
    for (const e of before) await bus.publish(e);

    await pg.kill();
    let refused: unknown;
    await bus.publish(tick(30)).catch((err) => (refused = err));
    expect(refused, 'a publish while the database is away').to.be.instanceOf(Error);
    await pg.start();
    hold = false;
    const after = [6, 7, 8].map(tick);
    // The pool reconnects on its next checkout.
    await waitFor(
      'a publish after the restart',
      async () =>
        bus!.publish(after[0]!).then(
          () => true,
          () => false,
        ),
      30_000,
      250,
    );
    for (const e of after.slice(1)) await bus.publish(e);
    const want = [...before, ...after].map((e) => e.id);
    await waitFor('every event delivered', () => want.every((id) => seen.includes(id)), 30_000, 100);
    await new Promise((r) => setTimeout(r, 500));
    expect([...seen].sort()).to.deep.equal([...want].sort());
    expect(
      seen.filter((id) => id === tick(30).id),
      'the refused publish was not stored',
    ).to.have.length(0);
  });
});
