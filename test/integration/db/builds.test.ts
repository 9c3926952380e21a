import { expect } from 'chai';
import { createBuild, findBuildByRevision, findBuildsByVersion, getBuild, latestBuildPerBranch, listBuilds, listStaleBuilds, transitionBuildStatus } from '../../../shared/db/builds.ts';
import { IllegalTransitionError, NotFoundError } from '../../../shared/db/errors.ts';
import { getPipeline, upsertPipeline, type Pipeline } from '../../../shared/db/pipelines.ts';
import { JOB_STATUSES, canTransition, type JobStatus } from '../../../shared/status/status.ts';
import { migratedDatabase, type TestDatabase } from './database.ts';

const repo = (name: string) => ({ repoSource: 'github.com', repoOwner: 'estafette', repoName: name });

describe('db: builds', function () {
  let db: TestDatabase;
  before(async function () {
    db = await migratedDatabase(this);
  });
  after(async () => db?.close());

  const pipeline = (name: string) => upsertPipeline(db.pool, { ...repo(name), labels: { team: 'ci' } });
  const build = (p: Pipeline, extra: Partial<Parameters<typeof createBuild>[1]> = {}) =>
    createBuild(db.pool, { ...repo(p.repoName), pipelineId: p.id, branch: 'main', revision: 'a'.repeat(40), version: (n) => `1.0.${n}`, ...extra });

  it('50 concurrent createBuild calls for one pipeline get numbers 1…50, each once', async () => {
    const p = await pipeline('concurrent');
    const results = await Promise.all(Array.from({ length: 50 }, () => build(p)));
    const numbers = results.map((r) => r.build.buildNumber).sort((a, b) => a - b);
    expect(numbers).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(new Set(results.map((r) => r.build.buildVersion)).size).to.equal(50);
    results.forEach((r) => expect(r.build.buildVersion).to.equal(`1.0.${r.build.buildNumber}`));
    // The pipeline's summary points at the newest build.
    const after = await getPipeline(db.pool, repo('concurrent'));
    expect(after?.lastBuild?.buildNumber).to.equal(50);
  });

  it('a repeated event id returns the first build instead of creating another', async () => {
    const p = await pipeline('idempotent');
    const results = await Promise.all(Array.from({ length: 5 }, () => build(p, { eventId: 'evt-1' })));
    expect(new Set(results.map((r) => r.build.id)).size).to.equal(1);
    expect(results.filter((r) => r.created)).to.have.length(1);
    expect((await listBuilds(db.pool, { pipelineId: p.id })).pagination.totalItems).to.equal(1);
    // The counter did not move for the repeats: the next build is number 2.
    expect((await build(p)).build.buildNumber).to.equal(2);
  });

  it('maps rows to the API Build object', async () => {
    const p = await pipeline('mapping');
    const { build: b } = await build(p, {
      labels: { app: 'x' },
      commits: [{ id: 'c1', message: 'm', author: { name: 'n', email: 'e@x' } }],
      trigger: { event: 'git', fields: { BRANCH: 'main' } },
      manifest: 'stages: {}',
    });
    const got = await getBuild(db.pool, b.id, { withManifest: true });
    expect(got).to.include({ id: b.id, repoName: 'mapping', repoBranch: 'main', buildVersion: '1.0.1', buildStatus: 'pending', buildNumber: 1, manifest: 'stages: {}', duration: null });
    expect(got?.id).to.match(/^\d+$/);
    expect(got?.labels).to.deep.equal({ app: 'x' });
    expect(got?.commits[0]?.author.email).to.equal('e@x');
    expect(got?.trigger).to.deep.equal({ event: 'git', fields: { BRANCH: 'main' } });
    expect(new Date(got!.insertedAt).toISOString()).to.equal(got!.insertedAt);
    expect((await getBuild(db.pool, b.id))?.manifest).to.equal(undefined);
    expect(await getBuild(db.pool, '1')).to.equal(null);
  });

  // Every (from, to) pair: legal ones apply, illegal ones throw and change nothing. A build
  // starts pending or queued (it never awaits approval: releases do, see releases.test.ts).
  const buildStatuses = JOB_STATUSES.filter((s) => s !== 'awaiting-approval');
  const pairs = buildStatuses.flatMap((from) => buildStatuses.map((to) => ({ from, to })));
  const pathTo: Record<Exclude<JobStatus, 'awaiting-approval'>, JobStatus[]> = {
    queued: [],
    pending: [],
    running: ['running'],
    succeeded: ['running', 'succeeded'],
    failed: ['failed'],
    canceling: ['running', 'canceling'],
    canceled: ['canceled'],
  };
  describe('status transitions', () => {
    let p: Pipeline;
    before(async () => {
      p = await pipeline('transitions');
    });
    pairs.forEach(({ from, to }) => {
      const legal = canTransition(from, to) || from === to;
      it(`${from} → ${to} ${from === to ? 'is a no-op' : legal ? 'applies' : 'is refused'}`, async () => {
        const { build: b } = await build(p, from === 'queued' ? { status: 'queued' } : {});
        for (const step of pathTo[from as keyof typeof pathTo]) await transitionBuildStatus(db.pool, b.id, step);
        const before = await getBuild(db.pool, b.id);
        expect(before?.buildStatus).to.equal(from);
        if (legal) {
          const after = await transitionBuildStatus(db.pool, b.id, to);
          expect(after.buildStatus).to.equal(to);
          expect((await getBuild(db.pool, b.id))?.buildStatus).to.equal(to);
        } else {
          let err: unknown;
          await transitionBuildStatus(db.pool, b.id, to).catch((e) => (err = e));
          expect(err).to.be.instanceOf(IllegalTransitionError);
          expect((err as IllegalTransitionError).from).to.equal(from);
          expect((err as IllegalTransitionError).status).to.equal(409);
          expect(await getBuild(db.pool, b.id)).to.deep.equal(before);
        }
      });
    });
  });

  it('records timings and keeps the pipeline summary in step', async () => {
    const p = await pipeline('timings');
    const { build: b } = await build(p);
    const t0 = new Date('2026-01-01T10:00:00Z');
    const running = await transitionBuildStatus(db.pool, b.id, 'running', { at: t0 });
    expect(running.startedAt).to.equal(t0.toISOString());
    expect((await getPipeline(db.pool, repo('timings')))?.lastBuild?.buildStatus).to.equal('running');
    const done = await transitionBuildStatus(db.pool, b.id, 'succeeded', { at: new Date(t0.getTime() + 12_300) });
    expect(done.duration).to.equal(12.3);
    expect(done.finishedAt).to.equal('2026-01-01T10:00:12.300Z');
    const summary = (await getPipeline(db.pool, repo('timings')))?.lastBuild;
    expect(summary).to.include({ id: b.id, buildStatus: 'succeeded', duration: 12.3, buildVersion: '1.0.1' });
    // A status change of an older build does not overwrite the newer build's summary.
    const { build: b2 } = await build(p);
    await transitionBuildStatus(db.pool, b2.id, 'running');
    const { build: b3 } = await build(p);
    await transitionBuildStatus(db.pool, b2.id, 'failed');
    expect((await getPipeline(db.pool, repo('timings')))?.lastBuild).to.include({ id: b3.id, buildStatus: 'pending' });
  });

  it('reports an unknown build as NotFoundError', async () => {
    let err: unknown;
    await transitionBuildStatus(db.pool, '42', 'running').catch((e) => (err = e));
    expect(err).to.be.instanceOf(NotFoundError);
  });

  it('lists by pipeline, branch and status with paging; latest per branch; by version and revision', async () => {
    const p = await pipeline('listing');
    const branches = ['main', 'feature', 'main', 'fix', 'feature', 'main'];
    const made = [];
    for (const [i, branch] of branches.entries()) made.push((await build(p, { branch, revision: String(i).repeat(40) })).build);
    await transitionBuildStatus(db.pool, made[0]!.id, 'failed');

    const page1 = await listBuilds(db.pool, { pipelineId: p.id, size: 4 });
    expect(page1.items.map((b) => b.buildNumber)).to.deep.equal([6, 5, 4, 3]);
    expect(page1.pagination).to.deep.equal({ page: 1, size: 4, totalPages: 2, totalItems: 6 });
    const page2 = await listBuilds(db.pool, { pipelineId: p.id, size: 4, page: 2 });
    expect(page2.items.map((b) => b.buildNumber)).to.deep.equal([2, 1]);
    expect((await listBuilds(db.pool, { pipelineId: p.id, branch: 'main' })).items.map((b) => b.buildNumber)).to.deep.equal([6, 3, 1]);
    expect((await listBuilds(db.pool, { pipelineId: p.id, statuses: ['failed'] })).items.map((b) => b.buildNumber)).to.deep.equal([1]);
    expect((await latestBuildPerBranch(db.pool, p.id)).map((b) => [b.repoBranch, b.buildNumber])).to.deep.equal([
      ['main', 6],
      ['feature', 5],
      ['fix', 4],
    ]);
    expect((await findBuildsByVersion(db.pool, p.id, '1.0.3')).map((b) => b.buildNumber)).to.deep.equal([3]);
    expect((await findBuildByRevision(db.pool, p.id, '4'.repeat(40)))?.buildNumber).to.equal(5);
    expect(await findBuildByRevision(db.pool, p.id, 'f'.repeat(40))).to.equal(null);
    await transitionBuildStatus(db.pool, made[1]!.id, 'running', { at: new Date('2020-01-01T00:00:00Z') });
    const stale = await listStaleBuilds(db.pool, ['running'], new Date('2021-01-01T00:00:00Z'));
    expect(stale.map((b) => b.id)).to.deep.equal([made[1]!.id]);
    expect(await listStaleBuilds(db.pool, ['running'], new Date('2019-01-01T00:00:00Z'))).to.deep.equal([]);
  });
});
