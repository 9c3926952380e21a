import { expect } from 'chai';
import { createBuild, getBuild, insertBuild } from '../../../shared/db/builds.ts';
import { IllegalTransitionError } from '../../../shared/db/errors.ts';
import { markEventProcessed } from '../../../shared/db/events.ts';
import { appendLogLines, nextSystemLogSeq, readLogLines } from '../../../shared/db/logs.ts';
import { getPipeline, listPipelines, renamePipeline, setPipelineArchived, upsertPipeline, withActiveReleases } from '../../../shared/db/pipelines.ts';
import { withTransaction } from '../../../shared/db/pool.ts';
import { createRelease, latestReleasesPerTarget, listReleases, transitionReleaseStatus } from '../../../shared/db/releases.ts';
import { listStageRuns, upsertStageRuns } from '../../../shared/db/stages.ts';
import { claimCronFiring, dueCronTriggers, listTriggers, replaceTriggers, triggersListeningTo } from '../../../shared/db/triggers.ts';
import type { LogLine } from '../../../shared/logs/protocol.ts';
import { migratedDatabase, type TestDatabase } from './database.ts';

const repo = (owner: string, name: string) => ({ repoSource: 'github.com', repoOwner: owner, repoName: name });

describe('db: pipelines, releases, stages, logs, triggers, events', function () {
  let db: TestDatabase;
  before(async function () {
    db = await migratedDatabase(this);
  });
  after(async () => db?.close());

  it('upserts a pipeline, updating only the given fields', async () => {
    const a = await upsertPipeline(db.pool, { ...repo('up', 'one'), labels: { team: 'a' }, manifest: 'v1' });
    const b = await upsertPipeline(db.pool, { ...repo('up', 'one'), releaseTargets: [{ name: 'prod', actions: [] }] });
    expect(b.id).to.equal(a.id);
    expect(b.labels).to.deep.equal({ team: 'a' });
    expect(b.releaseTargets).to.deep.equal([{ name: 'prod', actions: [] }]);
    expect((await getPipeline(db.pool, repo('up', 'one'), { withManifest: true }))?.manifest).to.equal('v1');
    expect(await getPipeline(db.pool, repo('up', 'none'))).to.equal(null);
  });

  describe('listPipelines filters', () => {
    before(async () => {
      const specs: { name: string; labels: Record<string, string>; status: 'succeeded' | 'failed' | null }[] = [
        { name: 'alpha', labels: { team: 'x' }, status: 'succeeded' },
        { name: 'beta', labels: { team: 'y' }, status: 'failed' },
        { name: 'gamma', labels: { team: 'x', lang: 'go' }, status: null },
        { name: 'delta_1', labels: {}, status: 'succeeded' },
      ];
      for (const s of specs) {
        const p = await upsertPipeline(db.pool, { ...repo('lst', s.name), labels: s.labels });
        if (s.status) {
          const { build } = await createBuild(db.pool, { ...repo('lst', s.name), pipelineId: p.id, branch: 'main', version: '1', status: s.status === 'failed' ? 'failed' : 'pending' });
          if (s.status === 'succeeded') {
            await db.pool.query(`UPDATE builds SET status = 'running' WHERE id = $1`, [build.id]);
            await db.pool.query(`UPDATE pipelines SET last_build_status = 'succeeded' WHERE id = $1`, [p.id]);
          }
        }
      }
      await upsertPipeline(db.pool, { ...repo('lst', 'archived'), archived: true });
    });
    const names = async (f: Parameters<typeof listPipelines>[1]) => (await listPipelines(db.pool, { search: 'lst', ...f })).items.map((p) => p.repoName);
    const cases = [
      { name: 'default hides archived, most recent build (or creation) first', filter: {}, want: ['delta_1', 'gamma', 'beta', 'alpha'] },
      { name: 'sort by name', filter: { sort: 'name' as const }, want: ['alpha', 'beta', 'delta_1', 'gamma'] },
      { name: 'labels', filter: { labels: { team: 'x' }, sort: 'name' as const }, want: ['alpha', 'gamma'] },
      { name: 'status of last build', filter: { statuses: ['failed' as const] }, want: ['beta'] },
      { name: 'search is a literal substring', filter: { search: 'a_1' }, want: ['delta_1'] },
      { name: 'search escapes wildcards', filter: { search: 'lt%' }, want: [] },
      { name: 'archived', filter: { archived: true }, want: ['archived'] },
      { name: 'since (a time after every build)', filter: { since: new Date('2999-01-01T00:00:00Z') }, want: [] },
    ];
    cases.forEach((c) => it(c.name, async () => expect(await names(c.filter)).to.deep.equal(c.want)));
    it('pages', async () => {
      const page = await listPipelines(db.pool, { search: 'lst', sort: 'name', size: 3, page: 2 });
      expect(page.items.map((p) => p.repoName)).to.deep.equal(['gamma']);
      expect(page.pagination).to.deep.equal({ page: 2, size: 3, totalPages: 2, totalItems: 4 });
    });
  });

  it('composes upsertPipeline, insertBuild and replaceTriggers in one transaction (all or nothing)', async () => {
    const attempt = (fail: boolean) =>
      withTransaction(db.pool, async (tx) => {
        const p = await upsertPipeline(tx, { ...repo('tx', 'p'), manifest: 'm' });
        const { build } = await insertBuild(tx, { ...repo('tx', 'p'), pipelineId: p.id, branch: 'main', version: (n) => `2.0.${n}` });
        await replaceTriggers(tx, p.id, [{ jobKind: 'build', kind: 'git', filter: { repository: 'github.com/tx/up' }, action: {} }]);
        if (fail) throw new Error('dispatch failed');
        return build;
      });
    await attempt(true).catch(() => {});
    expect(await getPipeline(db.pool, repo('tx', 'p'))).to.equal(null);
    const build = await attempt(false);
    expect(build.buildNumber).to.equal(1);
    expect((await getBuild(db.pool, build.id))?.buildVersion).to.equal('2.0.1');
    expect((await getPipeline(db.pool, repo('tx', 'p')))?.lastBuild?.id).to.equal(build.id);
  });

  it('renames a pipeline and carries its builds along', async () => {
    const p = await upsertPipeline(db.pool, repo('ren', 'old'));
    await createBuild(db.pool, { ...repo('ren', 'old'), pipelineId: p.id, branch: 'main', version: '1' });
    const renamed = await renamePipeline(db.pool, repo('ren', 'old'), { repoOwner: 'ren2', repoName: 'new' });
    expect(renamed?.id).to.equal(p.id);
    expect(await getPipeline(db.pool, repo('ren', 'old'))).to.equal(null);
    expect((await getPipeline(db.pool, repo('ren2', 'new')))?.lastBuild?.buildNumber).to.equal(1);
    expect(await renamePipeline(db.pool, repo('ren', 'missing'), { repoOwner: 'x', repoName: 'y' })).to.equal(null);
  });

  it('archives a pipeline', async () => {
    await upsertPipeline(db.pool, repo('arch', 'p'));
    expect((await setPipelineArchived(db.pool, repo('arch', 'p'), true))?.archived).to.equal(true);
    expect(await setPipelineArchived(db.pool, repo('arch', 'none'), true)).to.equal(null);
  });

  it('creates releases, enforces their transitions and finds the latest per target/action', async () => {
    const p = await upsertPipeline(db.pool, {
      ...repo('rel', 'p'),
      releaseTargets: [
        { name: 'prod', actions: [{ name: 'deploy' }] },
        { name: 'dev', actions: [] },
      ],
    });
    const mk = (name: string, action: string, version: string) => createRelease(db.pool, { ...repo('rel', 'p'), pipelineId: p.id, name, action, version, triggeredBy: 'me' });
    const r1 = (await mk('prod', 'deploy', '1.0.1')).release;
    const r2 = (await mk('prod', 'deploy', '1.0.2')).release;
    await mk('prod', 'rollback', '1.0.0');
    const r4 = (await mk('dev', '', '1.0.3')).release;
    expect(r1).to.include({ name: 'prod', action: 'deploy', releaseVersion: '1.0.1', releaseStatus: 'pending', triggeredBy: 'me' });
    await transitionReleaseStatus(db.pool, r2.id, 'running');
    const done = await transitionReleaseStatus(db.pool, r2.id, 'succeeded');
    expect(done.releaseStatus).to.equal('succeeded');
    expect(done.duration).to.be.a('number');
    let err: unknown;
    await transitionReleaseStatus(db.pool, r2.id, 'running').catch((e) => (err = e));
    expect(err).to.be.instanceOf(IllegalTransitionError);

    const latest = await latestReleasesPerTarget(db.pool, [p.id]);
    expect(latest.map((r) => `${r.name}/${r.action}=${r.releaseVersion}`)).to.deep.equal(['dev/=1.0.3', 'prod/deploy=1.0.2', 'prod/rollback=1.0.0']);
    const [withActive] = await withActiveReleases(db.pool, [p]);
    expect(withActive!.releaseTargets[0]!.activeReleases!.map((r) => r.releaseVersion)).to.deep.equal(['1.0.2', '1.0.0']);
    expect(withActive!.releaseTargets[1]!.activeReleases!.map((r) => r.id)).to.deep.equal([r4.id]);
    expect((await listReleases(db.pool, { pipelineId: p.id, target: 'prod' })).items).to.have.length(3);

    const again = await createRelease(db.pool, { ...repo('rel', 'p'), pipelineId: p.id, name: 'dev', version: '1', eventId: 'e1' });
    const repeat = await createRelease(db.pool, { ...repo('rel', 'p'), pipelineId: p.id, name: 'dev', version: '1', eventId: 'e1' });
    expect([again.created, repeat.created, repeat.release.id]).to.deep.equal([true, false, again.release.id]);
  });

  it('upserts stage runs idempotently and never moves a stage out of a final status', async () => {
    const jobId = '123456';
    await upsertStageRuns(db.pool, 'build', jobId, [
      { stage: 'git-clone', run: 1, kind: 'builtin', status: 'running', startedAt: '2026-01-01T00:00:00.000Z' },
      { stage: 'build', run: 1, kind: 'stage', status: 'pending' },
    ]);
    await upsertStageRuns(db.pool, 'build', jobId, [
      { stage: 'git-clone', run: 1, kind: 'builtin', status: 'succeeded', finishedAt: '2026-01-01T00:00:02.000Z', durationMs: 2000 },
      { stage: 'build', run: 1, kind: 'stage', status: 'running', startedAt: '2026-01-01T00:00:02.000Z' },
      { stage: 'build', run: 1, kind: 'stage', status: 'failed', message: 'exit code 2' },
    ]);
    // A late 'running' for a finished stage is ignored, in a later call or later in the same batch.
    await upsertStageRuns(db.pool, 'build', jobId, [{ stage: 'git-clone', run: 1, kind: 'builtin', status: 'running' }]);
    await upsertStageRuns(db.pool, 'build', '7', [
      { stage: 's', run: 1, kind: 'stage', status: 'succeeded' },
      { stage: 's', run: 1, kind: 'stage', status: 'running', message: 'late' },
    ]);
    expect((await listStageRuns(db.pool, 'build', '7')).map((s) => [s.status, s.message])).to.deep.equal([['succeeded', 'late']]);
    await upsertStageRuns(db.pool, 'build', jobId, [{ stage: 'deploy', run: 1, kind: 'stage', status: 'pending' }]);
    const stages = await listStageRuns(db.pool, 'build', jobId);
    expect(stages.map((s) => [s.stage, s.status, s.durationMs, s.message])).to.deep.equal([
      ['git-clone', 'succeeded', 2000, null],
      ['build', 'failed', null, 'exit code 2'],
      ['deploy', 'pending', null, null],
    ]);
    expect(stages[0]!.startedAt).to.equal('2026-01-01T00:00:00.000Z');
    expect(await listStageRuns(db.pool, 'release', jobId)).to.deep.equal([]);
  });

  it('appends log lines idempotently and reads them in seq order', async () => {
    const line = (seq: number, stage = 'build'): LogLine => ({ seq, stage, run: 1, time: new Date(1_700_000_000_000 + seq).toISOString(), stream: 'stdout', text: `line ${seq} ✓ 'quoted'` });
    const job = '999';
    expect(await nextSystemLogSeq(db.pool, 'build', job)).to.equal(0);
    expect(await appendLogLines(db.pool, 'build', job, [line(2), line(0), line(1, 'git-clone')])).to.equal(3);
    expect(await appendLogLines(db.pool, 'build', job, [line(1, 'git-clone'), line(2), line(3)])).to.equal(1);
    const all = await readLogLines(db.pool, 'build', job);
    expect(all.map((l) => l.seq)).to.deep.equal([0, 1, 2, 3]);
    expect(all[1]).to.deep.equal(line(1, 'git-clone'));
    expect((await readLogLines(db.pool, 'build', job, { afterSeq: 1, limit: 1 })).map((l) => l.seq)).to.deep.equal([2]);
    expect((await readLogLines(db.pool, 'build', job, { stage: 'git-clone' })).map((l) => l.seq)).to.deep.equal([1]);
    expect(await nextSystemLogSeq(db.pool, 'build', job)).to.equal(4);
    expect(await readLogLines(db.pool, 'release', job)).to.deep.equal([]);
  });

  it('stores a full 5000-line batch in one call', async () => {
    const lines: LogLine[] = Array.from({ length: 5000 }, (_, seq) => ({ seq, stage: 's', run: 1, time: new Date().toISOString(), stream: 'stderr', text: 'x'.repeat(100) }));
    expect(await appendLogLines(db.pool, 'build', '1000', lines)).to.equal(5000);
    expect(await nextSystemLogSeq(db.pool, 'build', '1000')).to.equal(5000);
  });

  it('replaces triggers keeping ids of unchanged ones; finds due cron triggers and listeners', async () => {
    const p = await upsertPipeline(db.pool, repo('trg', 'p'));
    const cron = { jobKind: 'build' as const, kind: 'cron' as const, filter: { schedule: '*/5 * * * *' }, action: { builds: { branch: 'main' } } };
    const onUpstream = { jobKind: 'release' as const, jobName: 'prod', kind: 'pipeline' as const, filter: { name: 'github.com/Up/Stream', event: 'finished' }, action: { releases: { target: 'prod' } } };
    const first = await replaceTriggers(db.pool, p.id, [cron, onUpstream]);
    const second = await replaceTriggers(db.pool, p.id, [onUpstream, { ...cron, filter: { schedule: '0 3 * * *' } }]);
    expect(second[0]!.id).to.equal(first[1]!.id);
    expect(second[1]!.id).not.to.equal(first[0]!.id);
    expect((await listTriggers(db.pool, p.id)).map((t) => t.kind)).to.deep.equal(['pipeline', 'cron']);

    await replaceTriggers(db.pool, p.id, [cron, onUpstream, { jobKind: 'build', kind: 'git', filter: { repository: 'github.com/up/.*' }, action: {} }]);
    const due = await dueCronTriggers(db.pool, new Date('2026-03-01T10:05:42Z'));
    expect(due.map((t) => t.schedule)).to.deep.equal(['*/5 * * * *']);
    expect(await dueCronTriggers(db.pool, new Date('2026-03-01T10:06:00Z'))).to.deep.equal([]);
    expect((await triggersListeningTo(db.pool, 'pipeline', 'github.com/up/stream')).map((t) => t.jobName)).to.deep.equal(['prod']);
    expect(await triggersListeningTo(db.pool, 'pipeline', 'github.com/other/x')).to.deep.equal([]);
    expect((await triggersListeningTo(db.pool, 'git', 'github.com/other/x')).map((t) => t.sourceIsPattern)).to.deep.equal([true]);

    const id = due[0]!.id;
    const claims = await Promise.all(Array.from({ length: 5 }, () => claimCronFiring(db.pool, id, new Date('2026-03-01T10:05:42Z'))));
    expect(claims.filter(Boolean)).to.have.length(1);
    expect(await claimCronFiring(db.pool, id, new Date('2026-03-01T10:10:00Z'))).to.equal(true);

    await setPipelineArchived(db.pool, repo('trg', 'p'), true);
    expect(await dueCronTriggers(db.pool, new Date('2026-03-01T10:05:00Z'))).to.deep.equal([]);
  });

  it('records processed events once', async () => {
    expect(await markEventProcessed(db.pool, 'build-dispatch', 'e1')).to.equal(true);
    expect(await markEventProcessed(db.pool, 'build-dispatch', 'e1')).to.equal(false);
    expect(await markEventProcessed(db.pool, 'cron-relay', 'e1')).to.equal(true);
    // Marked inside a transaction that fails: the mark rolls back with the work.
    await withTransaction(db.pool, async (tx) => {
      await markEventProcessed(tx, 'build-dispatch', 'e2');
      throw new Error('work failed');
    }).catch(() => {});
    expect(await markEventProcessed(db.pool, 'build-dispatch', 'e2')).to.equal(true);
  });

  it('withTransaction retries on SQLSTATE 40001 and gives up after maxAttempts', async () => {
    let attempts = 0;
    const result = await withTransaction(db.pool, async (tx) => {
      attempts++;
      if (attempts < 3) {
        const e = Object.assign(new Error('restart transaction'), { code: '40001' });
        throw e;
      }
      return (await tx.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one;
    });
    expect([result, attempts]).to.deep.equal([1, 3]);
    attempts = 0;
    let err: Error | undefined;
    await withTransaction(
      db.pool,
      async () => {
        attempts++;
        throw Object.assign(new Error('always'), { code: '40001' });
      },
      { maxAttempts: 4, baseDelayMs: 1 },
    ).catch((e: Error) => (err = e));
    expect([err?.message, attempts]).to.deep.equal(['always', 4]);
  });

  it('real serialization failures under SERIALIZABLE are retried to success', async () => {
    await db.pool.query('CREATE TABLE IF NOT EXISTS ser_test (k INT8 PRIMARY KEY, v INT8 NOT NULL)');
    await db.pool.query('INSERT INTO ser_test VALUES (1, 0)');
    let retries = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        let first = true;
        await withTransaction(db.pool, async (tx) => {
          if (!first) retries++;
          first = false;
          await tx.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE');
          const { rows } = await tx.query<{ v: string }>('SELECT v FROM ser_test WHERE k = 1');
          await new Promise((r) => setTimeout(r, 5));
          await tx.query('UPDATE ser_test SET v = $1 WHERE k = 1', [Number(rows[0]!.v) + 1]);
        });
      }),
    );
    expect((await db.pool.query<{ v: string }>('SELECT v FROM ser_test')).rows[0]!.v).to.equal('10');
    expect(retries).to.be.greaterThan(0);
  });
});
