/**
 * Triggers and cron over the real bus: build-dispatch and two cron-relay instances consume from
 * NATS JetStream (unique stream per test) and publish back to it; PostgreSQL is real. Shows that
 * at-least-once delivery — a build.finished redelivered after a failed attempt, three ticks of
 * one minute shared by two instances — still yields one triggered build.
 */
import { expect } from 'chai';
import { connect } from 'nats';
import { connectJetStreamBus, type JetStreamBus } from '../../../shared/bus/jetstream.ts';
import type { Subscription } from '../../../shared/bus/bus.ts';
import { publisher } from '../../../shared/runtime/runtime.ts';
import { makeEvent } from '../../../shared/events/make.ts';
import { parseEvent } from '../../../shared/events/validate.ts';
import { eventType, type GitPushData } from '../../../shared/events/types.ts';
import { createPool } from '../../../shared/db/pool.ts';
import { transitionBuildStatus } from '../../../shared/db/builds.ts';
import { makeHandler as makeCronRelay } from '../../../functions/cron-relay/handler.ts';
import type { DispatchEvent } from '../../../functions/build-dispatch/deps.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { DispatchHarness, type Repo } from './harness.ts';
import { recordingLogger } from '../../support/logger.ts';
import { clockAt } from '../../support/fake-clock.ts';

const STAGES = `
stages:
  build:
    image: alpine:3.20
    commands: ["true"]
`;

describe('triggers and cron over NATS JetStream', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let natsUrl: string;
  let bus: JetStreamBus;
  let names: { stream: string; deadLetterStream: string; subjectPrefix: string };
  let h: DispatchHarness;
  const subs: Subscription[] = [];
  const busLogs: string[] = [];

  before(async function () {
    natsUrl = await requireService(this, 'nats');
    db = await migratedDatabase(this);
  });
  after(async () => db?.close());

  beforeEach(async () => {
    const name = uniqueName('TRIG');
    names = { stream: `${name}_EV`, deadLetterStream: `${name}_DLQ`, subjectPrefix: `${name}.` };
    bus = await connectJetStreamBus({ url: natsUrl, ...names, log: recordingLogger(busLogs) });
    h = await DispatchHarness.start(db, 5, publisher(bus, '/test/build-dispatch'));
  });
  afterEach(async () => {
    await Promise.all(subs.splice(0).map((s) => s.stop()));
    await h?.stop();
    await bus?.close();
    const nc = await connect({ servers: natsUrl });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(names.stream).catch(() => {});
    await jsm.streams.delete(names.deadLetterStream).catch(() => {});
    await nc.close();
  });

  /** build-dispatch consuming its event types; `failFirst` makes the first delivery of matching events throw after handling. */
  const dispatchConsumes = async (failFirst: (e: DispatchEvent) => boolean = () => false) => {
    const types = ['git.push', 'build.requested', 'build.finished', 'release.requested'] as const;
    subs.push(
      await bus.subscribe(
        'build-dispatch',
        types.map((t) => eventType(t)),
        async (ce, delivery) => {
          const e = parseEvent(ce) as DispatchEvent;
          await h.handler(e);
          if (delivery.attempt === 1 && failFirst(e)) throw new Error('crashed after handling (test)');
        },
        { backoffMs: [50] },
      ),
    );
  };
  const push = (r: Repo) => {
    const rev = r.git.commit({});
    const data: GitPushData = { forge: 'generic', ...r.ref, cloneUrl: `file://${r.git.dir}`, branch: 'main', revision: rev, commits: [], pusher: { name: 'dev' }, deliveryId: rev };
    return bus.publish(makeEvent('git.push', data, { source: '/test/webhook' }));
  };
  const count = async (r: Repo) => (await r.builds()).length;
  const settle = () => new Promise((r) => setTimeout(r, 500));

  it("a build.finished redelivered after a failed attempt still fires B's pipeline trigger once", async () => {
    const a = h.repo('a', STAGES);
    const b = h.repo(
      'b',
      `
triggers:
- pipeline:
    name: ${a.full}
    branch: main
  builds:
    branch: main
${STAGES}`,
    );
    await dispatchConsumes((e) => e.name === 'build.finished');
    await push(b);
    await push(a);
    await untilAsync(async () => (await count(a)) === 1 && (await count(b)) === 1, 10_000, 'the pushes to build');
    const [aBuild] = await a.builds();
    await transitionBuildStatus(db.pool, aBuild.id, 'running');
    const done = await transitionBuildStatus(db.pool, aBuild.id, 'succeeded');
    await bus.publish(
      makeEvent('build.finished', { ...a.ref, buildId: done.id, branch: 'main', revision: done.repoRevision, version: done.buildVersion, status: 'succeeded', chainDepth: 0 }, { source: '/test/log-ingest' }),
    );
    await untilAsync(async () => (await count(b)) === 2, 10_000, "B's triggered build");
    await settle();
    const builds = await b.builds();
    expect(builds.map((x) => [x.buildNumber, x.trigger?.event, x.chainDepth])).to.deep.equal([
      [2, 'pipeline', 1],
      [1, 'git', 0],
    ]);
    // The trigger fired on both deliveries with one id; JetStream kept one copy.
    const requested = h.published.filter((e) => e.name === 'build.requested');
    expect(requested).to.have.length(2);
    expect(requested[1].id).to.equal(requested[0].id);
  });

  it('three ticks of one minute shared by two cron-relay instances fire one build', async () => {
    const r = h.repo(
      'cron',
      `
triggers:
- cron:
    schedule: "0 9 * * *"
  builds:
    branch: main
${STAGES}`,
    );
    await dispatchConsumes();
    await push(r);
    await untilAsync(async () => (await count(r)) === 1, 10_000, 'the push to build');

    const minute = new Date(Date.UTC(2030, 0, 1, 9, 0));
    const relayLogs: string[] = [];
    const pools = [createPool(db.url, { max: 4 }), createPool(db.url, { max: 4 })];
    try {
      for (const pool of pools) {
        const relay = makeCronRelay({ pool, publish: publisher(bus, '/test/cron-relay'), log: recordingLogger(relayLogs), clock: clockAt(() => new Date(minute.getTime() + 5_000)) });
        subs.push(await bus.subscribe('cron-relay', [eventType('cron.tick')], async (ce) => relay(ce as Parameters<typeof relay>[0]), { backoffMs: [50] }));
      }
      for (const s of [0, 1, 2]) await bus.publish(makeEvent('cron.tick', { time: new Date(minute.getTime() + s * 1000).toISOString() }, { source: '/test/ping' }));
      await untilAsync(async () => (await count(r)) === 2, 10_000, 'the cron build');
      await settle();
    } finally {
      await Promise.all(subs.splice(0).map((s) => s.stop()));
      await Promise.all(pools.map((p) => p.end()));
    }
    const builds = await r.builds();
    expect(builds.map((x) => x.trigger?.event)).to.deep.equal(['cron', 'git']);
    expect(relayLogs.filter((l) => /trigger\(s\) fired/.test(l))).to.have.length(1);
  });
});

async function untilAsync(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
