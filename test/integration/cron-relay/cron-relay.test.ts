/**
 * cron-relay on real PostgreSQL: cron triggers stored by a real build-dispatch (file://
 * repositories), ticks at pinned clock times, published requests recorded and fed back into
 * dispatch. Each test has its own database, since the processed-minute record is global.
 */
import { expect } from 'chai';
import { createPool } from '../../../shared/db/pool.ts';
import { transitionReleaseStatus, listReleases } from '../../../shared/db/releases.ts';
import { ValidationError } from '../../../shared/errors/http-error.ts';
import { makeHandler, type CronRelayHandler } from '../../../functions/cron-relay/handler.ts';
import type { CronRelayDeps } from '../../../functions/cron-relay/deps.ts';
import { parseTick, type TickEvent } from '../../../functions/cron-relay/tick.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { DispatchHarness, type Published } from '../triggers/harness.ts';
import { recordingLogger } from '../../support/logger.ts';
import { clockAt } from '../../support/fake-clock.ts';

const STAGES = `
stages:
  build:
    image: alpine:3.20
    commands: ["true"]
`;
const cronBuild = (schedule: string) => `
triggers:
- name: nightly
  cron:
    schedule: "${schedule}"
  builds:
    branch: main
${STAGES}`;

const at = (hhmm: string, seconds = 0) => new Date(Date.UTC(2030, 0, 1, Number(hhmm.slice(0, 2)), Number(hhmm.slice(3, 5)), seconds));
const tick = (time: Date, id = `tick-${time.toISOString()}`): TickEvent => ({ type: 'ci.estafette.cron.tick', id, data: { time: time.toISOString() } });

describe('cron-relay: cron triggers', function () {
  let db: TestDatabase;
  let h: DispatchHarness;
  let clock: Date;
  let published: Published[];
  let logs: string[];
  let relay: CronRelayHandler;

  const relayDeps = (pool = db.pool): CronRelayDeps => ({
    pool,
    publish: async (name, data, opts) => void published.push({ name, id: opts?.id ?? '', data } as Published),
    log: recordingLogger(logs),
    clock: clockAt(() => clock),
  });
  const fired = () => published.filter((e) => e.name === 'build.requested' || e.name === 'release.requested');
  const times = () => fired().map((e) => ('trigger' in e.data ? e.data.trigger.fields.TIME : ''));

  beforeEach(async function () {
    db = await migratedDatabase(this);
    h = await DispatchHarness.start(db);
    published = [];
    logs = [];
    relay = makeHandler(relayDeps());
  });
  afterEach(async () => {
    await h?.stop();
    await db?.close();
  });

  it('fires exactly once for a minute that receives three ticks from two instances at once', async () => {
    const r = h.repo('nightly', cronBuild('15 10 * * *'));
    await r.push();
    const otherPool = createPool(db.url, { max: 5 });
    try {
      const second = makeHandler(relayDeps(otherPool));
      clock = at('10:15', 2);
      await Promise.all([relay(tick(at('10:15'))), second(tick(at('10:15'))), relay(tick(at('10:15', 1), 'tick-dup'))]);
    } finally {
      await otherPool.end();
    }
    const [req, ...rest] = fired();
    expect(rest).to.deep.equal([]);
    expect(req.name).to.equal('build.requested');
    expect(req.data).to.deep.include({ ...r.ref, branch: 'main', chainDepth: 1 });
    expect('trigger' in req.data && req.data.trigger).to.deep.equal({ event: 'cron', name: 'nightly', fields: { SCHEDULE: '15 10 * * *', TIME: at('10:15').toISOString() } });

    // Dispatch builds it, with the cron trigger's variables.
    await h.handler(req as Parameters<typeof h.handler>[0]);
    const [build] = await r.builds();
    expect(build).to.include({ buildNumber: 2, chainDepth: 1 });
    expect(h.builderConfig(build.id).plan.estafetteEnv).to.include({ ESTAFETTE_TRIGGER_EVENT: 'cron', ESTAFETTE_TRIGGER_CRON_SCHEDULE: '15 10 * * *' });

    // Later minutes do not match this schedule.
    clock = at('10:16', 1);
    await relay(tick(at('10:16')));
    expect(fired()).to.have.length(1);
  });

  it('catches a missed minute up once, and never fires a minute twice', async () => {
    await h.repo('every', cronBuild('* * * * *')).push();
    clock = at('10:00', 1);
    await relay(tick(at('10:00')));
    clock = at('10:02', 1);
    await relay(tick(at('10:02'))); // the 10:01 tick never came
    await relay(tick(at('10:02')));
    await relay(tick(at('10:01'))); // ... or comes late
    expect(times()).to.deep.equal(['10:00', '10:01', '10:02'].map((m) => at(m).toISOString()));
    expect(new Set(fired().map((e) => e.id)).size).to.equal(3);
    expect(logs.join('\n')).to.match(/10:01:00.000Z: 1 trigger\(s\) fired \(caught up\)/);
  });

  const windows: Array<{ name: string; ticks: Array<[tick: string, clock: string]>; expected: string[]; log?: RegExp }> = [
    { name: 'the first tick ever fires only its own minute', ticks: [['10:07', '10:07']], expected: ['10:07'] },
    {
      name: 'after a long gap only the last 5 minutes are caught up',
      ticks: [
        ['10:00', '10:00'],
        ['10:20', '10:20'],
      ],
      expected: ['10:00', '10:15', '10:16', '10:17', '10:18', '10:19', '10:20'],
    },
    { name: 'a tick more than 5 minutes late fires nothing', ticks: [['10:00', '10:09']], expected: [], log: /more than 5 min late/ },
    { name: 'a tick ahead of the clock fires nothing', ticks: [['10:05', '10:00']], expected: [], log: /ahead of the clock/ },
  ];
  windows.forEach((c) =>
    it(c.name, async () => {
      await h.repo('every', cronBuild('* * * * *')).push();
      for (const [t, now] of c.ticks) {
        clock = at(now, 5);
        await relay(tick(at(t)));
      }
      expect(times()).to.deep.equal(c.expected.map((m) => at(m).toISOString()));
      if (c.log) expect(logs.join('\n')).to.match(c.log);
    }),
  );

  it("takes a PingSource event's time from the CloudEvent attribute when its data.time is empty", async () => {
    await h.repo('ping', cronBuild('45 3 * * *')).push();
    clock = at('03:45', 3);
    await relay({ type: 'dev.knative.sources.ping', id: 'ping-1', time: at('03:45').toISOString(), data: '{"time": ""}' });
    expect(times()).to.deep.equal([at('03:45').toISOString()]);
  });

  it('releases on a cron trigger: version latest is the newest succeeded build, current the version released on the target', async () => {
    const r = h.repo(
      'rel',
      `
${STAGES}
releases:
  production:
    triggers:
    - cron:
        schedule: "30 4 * * *"
      releases:
        version: latest
    stages:
      deploy:
        image: alpine:3.20
        commands: ["true"]
  canary:
    triggers:
    - cron:
        schedule: "30 4 * * *"
      releases:
        version: current
    stages:
      deploy:
        image: alpine:3.20
        commands: ["true"]
`,
    );
    await r.push();
    const [first] = await r.builds();
    await h.finish(first.id);
    await h.handler({ name: 'release.requested', id: 'canary-1', data: { ...r.ref, name: 'canary', version: first.buildVersion, trigger: { event: 'manual', fields: {} }, chainDepth: 0 } });
    const [canary] = (await listReleases(db.pool, { pipelineId: first.pipelineId })).items;
    await transitionReleaseStatus(db.pool, canary.id, 'running');
    await transitionReleaseStatus(db.pool, canary.id, 'succeeded');
    await r.push();
    const [second] = await r.builds();
    await h.finish(second.id);
    await r.push(); // a third build, still pending: not a candidate for latest

    clock = at('04:30', 1);
    await relay(tick(at('04:30')));
    const got = fired().map((e) => (e.name === 'release.requested' ? [e.data.name, e.data.version] : []));
    expect(got).to.have.deep.members([
      ['production', second.buildVersion],
      ['canary', first.buildVersion],
    ]);
    expect(second.buildVersion).to.not.equal(first.buildVersion);
  });

  it('forgets processed-event marks older than a week on the hour, and keeps younger ones', async () => {
    const day = 24 * 60 * 60_000;
    const marks = async () => (await db.pool.query<{ event_id: string }>("SELECT event_id FROM processed_events WHERE consumer = 'prune-test' ORDER BY event_id")).rows.map((r) => r.event_id);
    await db.pool.query("INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ('prune-test', 'old', $1), ('prune-test', 'young', $2)", [
      new Date(at('11:00').getTime() - 8 * day),
      new Date(at('11:00').getTime() - 6 * day),
    ]);
    clock = at('10:30', 5);
    await relay(tick(at('10:30')));
    expect(await marks(), 'not on the hour').to.deep.equal(['old', 'young']);
    clock = at('11:00', 5);
    await relay(tick(at('11:00')));
    expect(await marks()).to.deep.equal(['young']);
    expect(logs.join('\n')).to.match(/1 processed-event mark\(s\) older than 7 days forgotten/);
  });

  const badTicks: Array<{ name: string; event: TickEvent; message: RegExp }> = [
    { name: 'no time at all', event: { type: 'ci.estafette.cron.tick', id: 'x', data: {} }, message: /needs data.time/ },
    { name: 'a time that is not ISO-8601', event: { type: 'ci.estafette.cron.tick', id: 'x', data: { time: 'yesterday' } }, message: /not an ISO-8601 time/ },
    { name: 'a numeric time', event: { type: 'dev.knative.sources.ping', id: 'x', data: { time: 12 } }, message: /must be a string/ },
    { name: 'data that is not JSON', event: { type: 'dev.knative.sources.ping', id: 'x', data: 'not json' }, message: /not JSON/ },
    { name: 'another event type', event: { type: 'ci.estafette.git.push', id: 'x', data: {} }, message: /not a cron tick/ },
  ];
  badTicks.forEach((c) =>
    it(`refuses a tick with ${c.name} (ValidationError, 400)`, () => {
      expect(() => parseTick(c.event)).to.throw(ValidationError, c.message);
    }),
  );

  it('rejects a tick without a usable time through the handler, and ignores other event types', async () => {
    let err: unknown;
    await relay({ type: 'ci.estafette.cron.tick', id: 'bad', data: { time: '' } }).catch((e) => (err = e));
    expect(err).to.be.instanceOf(ValidationError);
    await relay({ type: 'ci.estafette.build.finished', id: 'other', data: {} });
    expect(published).to.deep.equal([]);
  });
});
