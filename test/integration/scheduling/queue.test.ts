/**
 * Scheduling on real PostgreSQL and NATS JetStream (issue 22): superseded builds are canceled
 * with the reason, a pipeline's `concurrency.builds` and ESTAFETTE_MAX_RUNNING_BUILDS queue
 * builds first come first served with their positions in the API, and releases of one target
 * never overlap (or are refused with 409 when the request says so). The builders are simulated
 * (harness.ts) but report through the real log-ingest, whose build.finished frees the slots.
 */
import { expect } from 'chai';
import { requireService } from '../../support/services.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { neverOverlap, SchedulingHarness } from './harness.ts';
import type { Build } from '../../../shared/db/builds.ts';

const stages = 'stages:\n  build:\n    image: alpine:3.20\n    commands: [make]\n';
const releases = 'releases:\n  production:\n    stages:\n      deploy:\n        image: alpine:3.20\n        commands: [deploy]\n';

describe('scheduling: supersede, build queue, release queue', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  let natsUrl: string;
  let h: SchedulingHarness;

  before(async function () {
    natsUrl = await requireService(this, 'nats');
    db = await migratedDatabase(this);
  });
  after(async () => db?.close());
  afterEach(async () => h?.stop());

  const statuses = (bs: Build[]) => bs.map((b) => `#${b.buildNumber} ${b.buildStatus}`);

  it('three quick pushes to a feature branch: the first two are canceled as superseded, the third succeeds', async () => {
    h = await SchedulingHarness.start(db, natsUrl);
    await h.addDispatch();
    h.runner.mode = { kind: 'hold' };
    const r = h.repo('supersede', stages);
    const revs = [await r.push('feature/login'), await r.push('feature/login'), await r.push('feature/login')];
    await h.until('builds 1 and 2 canceled, 3 running', async () => {
      const bs = await r.builds();
      return bs.length === 3 && bs[0]!.buildStatus === 'canceled' && bs[1]!.buildStatus === 'canceled' && bs[2]!.buildStatus === 'running' && bs;
    });
    h.runner.releaseHeld();
    const bs = await h.until('build 3 succeeded', async () => {
      const all = await r.builds();
      return all[2]?.buildStatus === 'succeeded' && all;
    });
    expect(statuses(bs)).to.deep.equal(['#1 canceled', '#2 canceled', '#3 succeeded']);
    expect(bs[0]!.statusReason).to.equal(`superseded by build #2 (${revs[1]!.slice(0, 7)})`);
    expect(bs[1]!.statusReason).to.equal(`superseded by build #3 (${revs[2]!.slice(0, 7)})`);
    expect(bs[2]!.statusReason).to.equal('');
    // Their Jobs were deleted, and each got its build.finished (what a forge status reporter consumes).
    expect(h.runner.canceled).to.include.members([`build/${bs[0]!.id}`, `build/${bs[1]!.id}`]);
    await h.until('finished events of the canceled builds', async () => [bs[0]!, bs[1]!].every((b) => h.seen.some((e) => e.name === 'build.finished' && e.data.buildId === b.id && e.data.status === 'canceled')));
    // The API shows the reason.
    const api = await h.api('GET', `/api/pipelines/local/team/${r.name}/builds/${bs[0]!.id}`);
    expect(api.body).to.include({ buildStatus: 'canceled', statusReason: `superseded by build #2 (${revs[1]!.slice(0, 7)})` });
    expect(h.logs.join('\n')).to.match(/older build\(s\) of feature\/login superseded by build #2/);
  });

  it('pushes to main supersede nothing by default; cancelSuperseded: false keeps feature builds too', async () => {
    h = await SchedulingHarness.start(db, natsUrl);
    await h.addDispatch();
    h.runner.mode = { kind: 'hold' };
    const main = h.repo('main', stages);
    const kept = h.repo('kept', `concurrency:\n  cancelSuperseded: false\n${stages}`);
    await main.push('main');
    await main.push('main');
    await kept.push('feature/a');
    await kept.push('feature/a');
    await h.until('four builds running', async () => [...(await main.builds()), ...(await kept.builds())].filter((b) => b.buildStatus === 'running').length === 4);
    h.runner.releaseHeld();
    await h.until('all succeeded', async () => [...(await main.builds()), ...(await kept.builds())].every((b) => b.buildStatus === 'succeeded'));
    expect(h.runner.canceled).to.deep.equal([]);
  });

  it('concurrency builds: 1 with five pushes on five branches: one at a time, in arrival order, positions visible while queued', async () => {
    h = await SchedulingHarness.start(db, natsUrl);
    await h.addDispatch();
    h.runner.mode = { kind: 'hold' };
    const r = h.repo('queue', `concurrency:\n  builds: 1\n${stages}`);
    for (let i = 1; i <= 5; i++) await r.push(`branch-${i}`);
    await h.until('one running, four queued', async () => {
      const bs = await r.builds();
      return bs.length === 5 && bs.filter((b) => b.buildStatus === 'running').length === 1 && bs.filter((b) => b.buildStatus === 'queued').length === 4;
    });
    const listed = await h.api<{ items: Build[] }>('GET', `/api/pipelines/local/team/${r.name}/builds`);
    const positions = listed.body.items.map((b) => [b.buildNumber, b.repoBranch, b.buildStatus, b.queuePosition ?? null]).sort((a, b) => (a[0] as number) - (b[0] as number));
    expect(positions).to.deep.equal([
      [1, 'branch-1', 'running', null],
      [2, 'branch-2', 'queued', 1],
      [3, 'branch-3', 'queued', 2],
      [4, 'branch-4', 'queued', 3],
      [5, 'branch-5', 'queued', 4],
    ]);
    const one = await h.api<Build>('GET', `/api/pipelines/local/team/${r.name}/builds/${listed.body.items.find((b) => b.buildNumber === 4)!.id}`);
    expect(one.body).to.include({ buildStatus: 'queued', queuePosition: 3 });
    // The line is written just after the queued build is committed (and visible to the API).
    await h.until('the queue line of build 5', async () => /#5, .*queued at position 4/.test(h.logs.join('\n')));

    h.runner.mode = { kind: 'auto', ms: 100 };
    h.runner.releaseHeld();
    const bs = await h.until('all five succeeded', async () => {
      const all = await r.builds();
      return all.every((b) => b.buildStatus === 'succeeded') && all;
    });
    expect(neverOverlap(bs), JSON.stringify(bs.map((b) => [b.buildNumber, b.startedAt, b.finishedAt]))).to.equal(true);
    const byStart = [...bs].sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!)).map((b) => b.buildNumber);
    expect(byStart).to.deep.equal([1, 2, 3, 4, 5]);
    expect(h.runner.startCalls).to.deep.equal(bs.map((b) => `build/${b.id}`));
  });

  it('perBranch: the limit counts per branch, so two branches run side by side', async () => {
    h = await SchedulingHarness.start(db, natsUrl);
    await h.addDispatch();
    h.runner.mode = { kind: 'hold' };
    const r = h.repo('perbranch', `concurrency:\n  builds: 1\n  perBranch: true\n  cancelSuperseded: false\n${stages}`);
    await r.push('a');
    await r.push('b');
    await r.push('a');
    await h.until('a and b running, the second a queued', async () => statuses(await r.builds()).join() === '#1 running,#2 running,#3 queued');
    expect((await r.builds())[2]!.queuePosition).to.equal(1);
    h.runner.mode = { kind: 'auto', ms: 50 };
    h.runner.releaseHeld();
    await h.until('all succeeded', async () => (await r.builds()).every((b) => b.buildStatus === 'succeeded'));
  });

  it('ESTAFETTE_MAX_RUNNING_BUILDS bounds the whole server: at most 2 of 6 builds of 3 pipelines at once, first come first served', async () => {
    h = await SchedulingHarness.start(db, natsUrl, { maxRunningBuilds: 2 });
    await h.addDispatch();
    h.runner.mode = { kind: 'hold' };
    const repos = [h.repo('srv-a', stages), h.repo('srv-b', stages), h.repo('srv-c', stages)];
    for (const r of repos) await r.push('main');
    for (const r of repos) await r.push('main');
    const all = async () => (await Promise.all(repos.map((r) => r.builds()))).flat().sort((a, b) => Date.parse(a.insertedAt) - Date.parse(b.insertedAt) || a.id.localeCompare(b.id));
    await h.until('two running, four queued', async () => {
      const bs = await all();
      return bs.length === 6 && bs.filter((b) => b.buildStatus === 'running').length === 2 && bs.filter((b) => b.buildStatus === 'queued').length === 4;
    });
    const first = await all();
    // The server-wide queue counts every queued build ahead, whichever pipeline it belongs to.
    expect(first.filter((b) => b.buildStatus === 'queued').map((b) => b.queuePosition)).to.deep.equal([1, 2, 3, 4]);
    expect(first.slice(0, 2).map((b) => b.buildStatus)).to.deep.equal(['running', 'running']);
    h.runner.mode = { kind: 'auto', ms: 80 };
    h.runner.releaseHeld();
    const done = await h.until('all succeeded', async () => {
      const bs = await all();
      return bs.every((b) => b.buildStatus === 'succeeded') && bs;
    });
    // Sweep over start/finish times: never more than two at once.
    const edges = done
      .flatMap(
        (b) =>
          [
            [Date.parse(b.startedAt!), 1],
            [Date.parse(b.finishedAt!), -1],
          ] as const,
      )
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let peak = 0;
    for (const [, d] of edges) peak = Math.max(peak, (running += d));
    expect(peak).to.equal(2);
  });

  it('two releases to one target requested together never overlap; ifBusy refuse answers 409', async () => {
    h = await SchedulingHarness.start(db, natsUrl);
    await h.addDispatch();
    h.runner.mode = { kind: 'auto', ms: 50 };
    const r = h.repo('release', `${stages}${releases}`);
    await r.push('main');
    const [build] = await h.until('the build succeeded', async () => {
      const bs = await r.builds();
      return bs[0]?.buildStatus === 'succeeded' && bs;
    });
    h.runner.mode = { kind: 'hold' };
    const path = `/api/pipelines/local/team/${r.name}/releases`;
    const answers = await Promise.all([1, 2].map(() => h.api('POST', path, { name: 'production', releaseVersion: build!.buildVersion })));
    // 201 with the release when dispatch made it within the API's wait, else 202 (docs/API.md).
    for (const a of answers) expect(a.status).to.be.oneOf([201, 202]);
    await h.until(
      'one running, one queued',
      async () =>
        (await r.releases())
          .map((x) => x.releaseStatus)
          .sort()
          .join() === 'queued,running',
    );
    const queued = (await r.releases()).find((x) => x.releaseStatus === 'queued')!;
    expect(queued.queuePosition).to.equal(1);
    const refused = await h.api('POST', path, { name: 'production', releaseVersion: build!.buildVersion, ifBusy: 'refuse' });
    expect(refused.status).to.equal(409);
    expect(refused.body.message).to.match(/release target production is busy: 1 release\(s\) running \(at most 1 at once\), 1 waiting/);
    h.runner.mode = { kind: 'auto', ms: 100 };
    h.runner.releaseHeld();
    const done = await h.until('both succeeded', async () => {
      const rs = await r.releases();
      return rs.length === 2 && rs.every((x) => x.releaseStatus === 'succeeded') && rs;
    });
    expect(neverOverlap(done), JSON.stringify(done.map((x) => [x.startedAt, x.finishedAt]))).to.equal(true);
    // A request published straight to the bus (a trigger, another client) is refused by dispatch itself.
    h.runner.mode = { kind: 'hold' };
    expect((await h.api('POST', path, { name: 'production', releaseVersion: build!.buildVersion })).status).to.be.oneOf([201, 202]);
    await h.until('a release running', async () => (await r.releases()).some((x) => x.releaseStatus === 'running'));
    await h.publish('release.requested', { ...r.ref, name: 'production', version: build!.buildVersion, trigger: { event: 'manual', fields: {} }, chainDepth: 0, ifBusy: 'refuse' }, { id: 'busy-refuse' });
    const refusedByDispatch = await h.until('the refused release', async () => (await r.releases()).find((x) => x.eventId === 'busy-refuse' && x.releaseStatus === 'canceled'));
    expect(refusedByDispatch.statusReason).to.equal('target production is busy (1 release(s) running) and the request said not to queue');
    expect(h.runner.startCalls).to.not.include(`release/${refusedByDispatch.id}`);
    h.runner.mode = { kind: 'auto', ms: 30 };
    h.runner.releaseHeld();
    await h.until('the third release succeeded', async () => (await r.releases()).filter((x) => x.releaseStatus === 'succeeded').length === 3);
    // With the target free again, refuse lets it through.
    const free = await h.api('POST', path, { name: 'production', releaseVersion: build!.buildVersion, ifBusy: 'refuse' });
    expect(free.status).to.be.oneOf([201, 202]);
    await h.until('the fourth release succeeded', async () => (await r.releases()).filter((x) => x.releaseStatus === 'succeeded').length === 4);
  });

  it('a target with concurrency 2 runs two releases at once and queues the third', async () => {
    h = await SchedulingHarness.start(db, natsUrl);
    await h.addDispatch();
    h.runner.mode = { kind: 'auto', ms: 50 };
    const r = h.repo('release2', `${stages}releases:\n  production:\n    concurrency: 2\n    stages:\n      deploy:\n        image: alpine:3.20\n        commands: [deploy]\n`);
    await r.push('main');
    const [build] = await h.until('the build succeeded', async () => {
      const bs = await r.builds();
      return bs[0]?.buildStatus === 'succeeded' && bs;
    });
    h.runner.mode = { kind: 'hold' };
    for (let i = 0; i < 3; i++) expect((await h.api('POST', `/api/pipelines/local/team/${r.name}/releases`, { name: 'production', releaseVersion: build!.buildVersion })).status).to.be.oneOf([201, 202]);
    await h.until(
      'two running, one queued',
      async () =>
        (await r.releases())
          .map((x) => x.releaseStatus)
          .sort()
          .join() === 'queued,running,running',
    );
    h.runner.mode = { kind: 'auto', ms: 30 };
    h.runner.releaseHeld();
    await h.until('all three succeeded', async () => (await r.releases()).every((x) => x.releaseStatus === 'succeeded'));
  });

  it('a canceled queued build leaves the queue and the next one moves up', async () => {
    h = await SchedulingHarness.start(db, natsUrl);
    await h.addDispatch();
    h.runner.mode = { kind: 'hold' };
    const r = h.repo('cancelq', `concurrency:\n  builds: 1\n  cancelSuperseded: false\n${stages}`);
    for (const b of ['x', 'y', 'z']) await r.push(b);
    await h.until('one running, two queued', async () => statuses(await r.builds()).join() === '#1 running,#2 queued,#3 queued');
    const bs = await r.builds();
    expect((await h.api('DELETE', `/api/pipelines/local/team/${r.name}/builds/${bs[1]!.id}`)).status).to.equal(202);
    await h.until('build 2 canceled, build 3 first in line', async () => {
      const now = await r.builds();
      return now[1]!.buildStatus === 'canceled' && now[2]!.queuePosition === 1 && now;
    });
    expect((await r.builds())[1]!.statusReason).to.equal('canceled by local');
    expect(h.runner.startCalls).to.not.include(`build/${bs[1]!.id}`);
  });
});
