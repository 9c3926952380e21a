/**
 * The UI's hot queries read indexes, not whole tables: with ~50k builds seeded and ANALYZEd,
 * EXPLAIN of the exact SQL the query modules send shows no sequential scan of builds/releases.
 */
import { expect } from 'chai';
import { latestBuildPerBranch, listBuilds, listStaleBuilds } from '../../../shared/db/builds.ts';
import { upsertPipeline } from '../../../shared/db/pipelines.ts';
import type { Db } from '../../../shared/db/pool.ts';
import { latestReleasesPerTarget } from '../../../shared/db/releases.ts';
import { migratedDatabase, type TestDatabase } from './database.ts';

/** A Db that records the statements sent through it. */
function recording(db: Db): { db: Db; sent: Array<{ text: string; values: unknown[] }> } {
  const sent: Array<{ text: string; values: unknown[] }> = [];
  const query = ((text: string, values?: unknown[]) => {
    sent.push({ text, values: values ?? [] });
    return db.query(text, values);
  }) as Db['query'];
  return { db: { query }, sent };
}

describe('db: indexes for the UI queries', function () {
  this.timeout(120_000);
  let db: TestDatabase;
  let pipelineId: string;

  before(async function () {
    db = await migratedDatabase(this);
    const pipelines = [];
    for (let i = 0; i < 50; i++) pipelines.push(await upsertPipeline(db.pool, { repoSource: 'github.com', repoOwner: 'o', repoName: `r${i}` }));
    pipelineId = pipelines[7]!.id;
    // 50 pipelines × 1000 builds, 3 branches each; releases likewise. Seeded in SQL for speed.
    await db.pool.query(
      `INSERT INTO builds (id, pipeline_id, repo_source, repo_owner, repo_name, number, branch, version, status, inserted_at)
       SELECT p.ord * 100000 + n, p.id, 'github.com', 'o', 'r', n, 'b' || (n % 3), '1.0.' || n,
              CASE WHEN n % 10 = 0 THEN 'failed' ELSE 'succeeded' END, now() - (n || ' minutes')::INTERVAL
       FROM (SELECT id, row_number() OVER (ORDER BY id) AS ord FROM pipelines) AS p, generate_series(1, 1000) AS n`,
    );
    await db.pool.query(
      `INSERT INTO releases (id, pipeline_id, repo_source, repo_owner, repo_name, name, action, version, status, inserted_at)
       SELECT p.ord * 100000 + n, p.id, 'github.com', 'o', 'r', 't' || (n % 4), '', '1.0.' || n, 'succeeded', now() - (n || ' minutes')::INTERVAL
       FROM (SELECT id, row_number() OVER (ORDER BY id) AS ord FROM pipelines) AS p, generate_series(1, 200) AS n`,
    );
    await db.pool.query('ANALYZE');
  });
  after(async () => db?.close());

  async function plansOf(run: (db: Db) => Promise<unknown>): Promise<string[]> {
    const r = recording(db.pool);
    await run(r.db);
    const plans = [];
    for (const s of r.sent) {
      const plan = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${s.text}`, s.values);
      plans.push(plan.rows.map((row) => row['QUERY PLAN']).join('\n'));
    }
    return plans;
  }

  const cases = [
    { name: 'latest 20 builds of a pipeline', table: 'builds', run: (d: Db) => listBuilds(d, { pipelineId, size: 20 }) },
    { name: 'builds of a branch', table: 'builds', run: (d: Db) => listBuilds(d, { pipelineId, branch: 'b1', size: 20 }) },
    { name: 'latest build per branch', table: 'builds', run: (d: Db) => latestBuildPerBranch(d, pipelineId) },
    { name: 'running/pending builds for the reconciler', table: 'builds', run: (d: Db) => listStaleBuilds(d, ['pending', 'running'], new Date()) },
    { name: 'latest release per target', table: 'releases', run: (d: Db) => latestReleasesPerTarget(d, [pipelineId]) },
  ];
  cases.forEach((c) =>
    it(`${c.name} uses an index`, async () => {
      const plans = await plansOf(c.run);
      expect(plans.length).to.be.greaterThan(0);
      for (const plan of plans) {
        expect(plan, plan).not.to.match(new RegExp(`Seq Scan on ${c.table}`));
        expect(plan, plan).to.match(/Index/);
      }
    }),
  );

  it('the check can fail: a query on an unindexed column shows a Seq Scan on builds', async () => {
    const plans = await plansOf((d) => d.query(`SELECT count(*) FROM builds WHERE repo_name = 'r'`));
    expect(plans[0]).to.match(/Seq Scan on builds/);
  });
});
