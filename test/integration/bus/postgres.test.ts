import { expect } from 'chai';
import type pg from 'pg';
import { connectPostgresBus } from '../../../shared/bus/postgres.ts';
import { createPool } from '../../../shared/db/pool.ts';
import { migrate } from '../../../shared/db/migrate.ts';
import { makeEvent } from '../../../shared/events/make.ts';
import { eventType } from '../../../shared/events/types.ts';
import { freshDatabase, requireService } from '../../support/services.ts';
import { recordingLogger } from '../../support/logger.ts';
import { describeBus, until } from './contract.ts';

/** A migrated database of its own per bus (the bus tables are global to a database). */
async function postgresBus(ctx: Mocha.Context) {
  const server = await requireService(ctx, 'postgres');
  const fresh = await freshDatabase(server, 'bus');
  const pool = createPool(fresh.url, { max: 10 });
  await migrate(pool);
  const logs: string[] = [];
  const bus = await connectPostgresBus({ pool, url: fresh.url, log: recordingLogger(logs) });
  const pools: pg.Pool[] = [pool];
  return {
    bus,
    delivers: true,
    logs,
    url: fresh.url,
    pool,
    /** Another process on the same database: its own pool and bus. */
    another: async (o: { pollMs?: number } = {}) => {
      const p = createPool(fresh.url, { max: 5 });
      pools.push(p);
      return connectPostgresBus({ pool: p, url: fresh.url, ...o });
    },
    close: async () => {
      await bus.close();
      for (const p of pools) await p.end().catch(() => {});
      await fresh.drop();
    },
  };
}

describeBus('postgres', postgresBus);

describe('bus: postgres specifics', function () {
  this.timeout(30_000);
  let h: Awaited<ReturnType<typeof postgresBus>>;
  beforeEach(async function () {
    h = await postgresBus(this);
  });
  afterEach(async () => h?.close());

  it('an accepted publish is stored: a process started after the publisher is gone receives it', async () => {
    // The durable consumer exists (a previous run subscribed), then the publisher "dies" right after its publishes resolved.
    const first = await h.another();
    const sub = await first.subscribe('dispatch', [eventType('cron.tick')], async () => {});
    await sub.stop();
    await first.close();
    const sent = Array.from({ length: 25 }, (_, i) => makeEvent('cron.tick', { time: `2026-01-01T00:${String(i).padStart(2, '0')}:00Z` }, { source: '/t' }));
    for (const e of sent) expect((await h.bus.publish(e)).duplicate).to.equal(false);
    await h.bus.close();
    const restarted = await h.another();
    const seen: string[] = [];
    await restarted.subscribe('dispatch', [eventType('cron.tick')], async (ev) => void seen.push(ev.id));
    await until(() => seen.length === sent.length, 10_000, 'deliveries after restart');
    expect(seen).to.deep.equal(sent.map((e) => e.id));
    await restarted.close();
  });

  it('an event whose handler never finished (process died) is redelivered after the ack wait, to another instance', async () => {
    const opts = { ackWaitMs: 800, backoffMs: [20] };
    const doomed = await h.another({ pollMs: 100 });
    let doomedGot = 0;
    await doomed.subscribe(
      'crashy',
      [eventType('cron.tick')],
      () => {
        doomedGot++;
        return new Promise<void>(() => {});
      },
      opts,
    );
    const e = makeEvent('cron.tick', { time: '2026-01-01T01:00:00Z' }, { source: '/t' });
    await h.bus.publish(e);
    await until(() => doomedGot === 1, 5000, 'first delivery');
    // The doomed instance's heartbeat would keep the lock: stop its timers by closing its pool (the process is gone).
    await (doomed as unknown as { o: { pool: pg.Pool } }).o.pool.end().catch(() => {});
    const attempts: number[] = [];
    await h.bus.subscribe(
      'crashy',
      [eventType('cron.tick')],
      async (ev, d) => {
        if (ev.id === e.id) attempts.push(d.attempt);
      },
      opts,
    );
    await until(() => attempts.length === 1, 8000, 'redelivery after the ack wait');
    expect(attempts).to.deep.equal([2]);
  });

  it('publishes racing a consumer subscribing for the first time: each event delivered once', async () => {
    const sent = Array.from({ length: 60 }, (_, i) => makeEvent('cron.tick', { time: `2026-01-02T00:${String(i).padStart(2, '0')}:00Z` }, { source: '/t' }));
    const other = await h.another();
    const seen: string[] = [];
    const publishing = (async () => {
      for (const e of sent) await other.publish(e);
    })();
    await new Promise((r) => setTimeout(r, 20));
    await h.bus.subscribe('late', [eventType('cron.tick')], async (ev) => void seen.push(ev.id));
    await publishing;
    await until(() => seen.length >= sent.length, 10_000, 'all deliveries');
    await new Promise((r) => setTimeout(r, 300));
    expect([...seen].sort()).to.deep.equal(sent.map((e) => e.id).sort());
    await other.close();
  });
});
