/**
 * The same schema and the counter guarantee on a real CockroachDB (testcontainers, or
 * COCKROACH_URL). Skips loudly where neither exists; CI machines with Docker run it.
 */
import { expect } from 'chai';
import { createBuild, getBuild, transitionBuildStatus } from '../../../shared/db/builds.ts';
import { IllegalTransitionError } from '../../../shared/db/errors.ts';
import { createPool } from '../../../shared/db/pool.ts';
import { loadMigrations, migrate } from '../../../shared/db/migrate.ts';
import { upsertPipeline } from '../../../shared/db/pipelines.ts';
import { appendLogLines, readLogLines } from '../../../shared/db/logs.ts';
import { migratedDatabase, type TestDatabase } from './database.ts';

describe('db: CockroachDB', function () {
  this.timeout(180_000);
  let db: TestDatabase;
  before(async function () {
    db = await migratedDatabase(this, 'cockroach');
  });
  after(async () => db?.close());

  it('migrations apply once, also when run again from two pools at once', async () => {
    const pools = [createPool(db.url), createPool(db.url)];
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, { pollMs: 20 })));
      expect(results.flatMap((r) => r.applied)).to.deep.equal([]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    const r = await db.pool.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(r.rows.map((x) => x.version)).to.deep.equal(loadMigrations().map((m) => m.version));
  });

  it('50 concurrent createBuild calls get numbers 1…50, each once (40001 retried)', async () => {
    const p = await upsertPipeline(db.pool, { repoSource: 'github.com', repoOwner: 'crdb', repoName: 'counter' });
    const results = await Promise.all(
      Array.from({ length: 50 }, () => createBuild(db.pool, { repoSource: 'github.com', repoOwner: 'crdb', repoName: 'counter', pipelineId: p.id, branch: 'main', version: (n) => `0.0.${n}` })),
    );
    expect(results.map((r) => r.build.buildNumber).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('status transitions and log appends behave as on PostgreSQL', async () => {
    const p = await upsertPipeline(db.pool, { repoSource: 'github.com', repoOwner: 'crdb', repoName: 'status' });
    const { build } = await createBuild(db.pool, { repoSource: 'github.com', repoOwner: 'crdb', repoName: 'status', pipelineId: p.id, branch: 'main', version: '1' });
    await transitionBuildStatus(db.pool, build.id, 'running');
    const done = await transitionBuildStatus(db.pool, build.id, 'succeeded');
    expect(done.duration).to.be.a('number');
    let err: unknown;
    await transitionBuildStatus(db.pool, build.id, 'running').catch((e) => (err = e));
    expect(err).to.be.instanceOf(IllegalTransitionError);
    expect((await getBuild(db.pool, build.id))?.buildStatus).to.equal('succeeded');
    const line = (seq: number) => ({ seq, stage: 'build', run: 1, time: new Date().toISOString(), stream: 'stdout' as const, text: `l${seq}` });
    expect(await appendLogLines(db.pool, 'build', build.id, [line(0), line(1)])).to.equal(2);
    expect(await appendLogLines(db.pool, 'build', build.id, [line(1), line(2)])).to.equal(1);
    expect((await readLogLines(db.pool, 'build', build.id)).map((l) => l.text)).to.deep.equal(['l0', 'l1', 'l2']);
  });
});
