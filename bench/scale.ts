/**
 * Benchmark 5, scale: the queries behind the pipelines list, a pipeline's builds and the
 * insights/stats routes — the same shared/db functions query-api calls — timed on a database
 * seeded (generate_series, in SQL) with P pipelines and 10k builds (the baseline) and on one with
 * P pipelines and B builds, in the same run (full: 10k pipelines, 1M builds; quick: 1k, 100k).
 * Goal: every query within 2× of its figure at 10k builds. A query that misses has its
 * statements shown with `EXPLAIN (ANALYZE, BUFFERS)` at the large size — the database's profile.
 */
import type pg from 'pg';
import { createPool, type Db } from '../shared/db/pool.ts';
import { countBuilds, buildDurations, buildSuccessRate, latestBuildPerBranch, listBuilds } from '../shared/db/builds.ts';
import { countPipelines, getPipeline, listPipelines, withActiveReleases } from '../shared/db/pipelines.ts';
import { releaseStats } from '../shared/db/releases.ts';
import { benchDatabase, median, withCleanup } from './environment.ts';
import { ms, quantile, section, table, writeSection } from './report.ts';

const DAY_SECONDS = 86_400;
const SPAN_SECONDS = 30 * DAY_SECONDS;

/** Seeds `pipelines` pipelines and `builds` builds spread evenly over them and over 30 days. */
export async function seed(pool: pg.Pool, pipelines: number, builds: number): Promise<void> {
  await pool.query(
    `INSERT INTO pipelines (id, repo_source, repo_owner, repo_name, labels, clone_url, forge, release_targets, inserted_at, last_activity_at)
     SELECT i, 'github.com', 'owner-' || (i % 100), 'repo-' || i, jsonb_build_object('team', 'team-' || (i % 20)),
       'https://github.com/owner-' || (i % 100) || '/repo-' || i || '.git', 'github',
       '[{"name":"production","actions":[]}]'::JSONB, now() - interval '60 days', now() - interval '60 days'
     FROM generate_series(1, $1::INT8) AS i`,
    [pipelines],
  );
  // In chunks of 50k rows: one statement for 1M rows outlasts the pool's 30 s query timeout.
  for (let from = 1; from <= builds; from += 50_000) {
    await pool.query(
      `INSERT INTO builds (id, pipeline_id, repo_source, repo_owner, repo_name, number, branch, revision, version, status,
       inserted_at, started_at, finished_at, updated_at, duration_ms)
     SELECT g, p, 'github.com', 'owner-' || (p % 100), 'repo-' || p, n,
       CASE WHEN g % 7 = 0 THEN 'feature-' || (g % 13) ELSE 'main' END,
       md5(g::TEXT) || substr(md5((g + 1)::TEXT), 1, 8), '1.0.' || n,
       CASE WHEN g % 10 = 0 THEN 'failed' WHEN g % 97 = 0 THEN 'canceled' ELSE 'succeeded' END,
       ts, ts + interval '5 seconds', ts + d * interval '1 millisecond', ts + d * interval '1 millisecond', d
     FROM generate_series($4::INT8, LEAST($4::INT8 + 49999, $2::INT8)) AS g,
       LATERAL (SELECT ((g - 1) % $1::INT8) + 1 AS p, ((g - 1) / $1::INT8) + 1 AS n,
                       now() - (($2::INT8 - g) * ($3::FLOAT8 / $2::INT8)) * interval '1 second' AS ts,
                       60000 + (g % 240) * 1000 AS d) AS x`,
      [pipelines, builds, SPAN_SECONDS, from],
    );
  }
  await pool.query(`INSERT INTO build_counters (pipeline_id, counter) SELECT pipeline_id, max(number) FROM builds GROUP BY pipeline_id`);
  await pool.query(
    `UPDATE pipelines p SET last_build_id = b.id, last_build_number = b.number, last_build_status = b.status,
       last_build_version = b.version, last_build_branch = b.branch, last_build_revision = b.revision,
       last_build_inserted_at = b.inserted_at, last_build_duration_ms = b.duration_ms, last_activity_at = b.inserted_at
     FROM (SELECT DISTINCT ON (pipeline_id) * FROM builds ORDER BY pipeline_id, number DESC) AS b
     WHERE b.pipeline_id = p.id`,
  );
  // One succeeded release of each pipeline's last build, for the releases column and stats.
  await pool.query(
    `INSERT INTO releases (id, pipeline_id, repo_source, repo_owner, repo_name, name, version, status, build_id,
       inserted_at, started_at, finished_at, updated_at, duration_ms)
     SELECT p.id, p.id, p.repo_source, p.repo_owner, p.repo_name, 'production', p.last_build_version, 'succeeded', p.last_build_id,
       p.last_build_inserted_at + interval '10 minutes', p.last_build_inserted_at + interval '10 minutes',
       p.last_build_inserted_at + interval '12 minutes', p.last_build_inserted_at + interval '12 minutes', 120000
     FROM pipelines p WHERE p.last_build_id IS NOT NULL`,
  );
  await pool.query('ANALYZE');
}

/** A Db recording the statements it runs, so a slow query can be explained. */
function recording(pool: pg.Pool): Db & { statements: Array<{ text: string; values: unknown[] }> } {
  const statements: Array<{ text: string; values: unknown[] }> = [];
  return {
    statements,
    query: ((text: string, values: unknown[] = []) => {
      statements.push({ text, values });
      return pool.query(text, values);
    }) as Db['query'],
  };
}

interface Case {
  name: string;
  /** API route it stands for. */
  route: string;
  run(db: Db, pipelineId: string): Promise<unknown>;
}

const CASES: Case[] = [
  { name: 'pipelines list, page 1 with releases', route: 'GET /api/pipelines', run: async (db) => withActiveReleases(db, (await listPipelines(db, {})).items) },
  { name: 'pipelines list, failed only', route: 'GET /api/pipelines?filter[status]=failed', run: (db) => listPipelines(db, { statuses: ['failed'] }) },
  { name: 'pipelines search', route: 'GET /api/pipelines?filter[search]=repo-77', run: (db) => listPipelines(db, { search: 'repo-77' }) },
  { name: 'pipelines sorted by name', route: 'GET /api/pipelines?sort=name', run: (db) => listPipelines(db, { sort: 'name' }) },
  { name: 'one pipeline', route: 'GET /api/pipelines/:source/:owner/:name', run: (db, id) => getPipeline(db, { repoSource: 'github.com', repoOwner: `owner-${Number(id) % 100}`, repoName: `repo-${id}` }) },
  { name: "a pipeline's builds, page 1", route: 'GET …/builds', run: (db, id) => listBuilds(db, { pipelineId: id }) },
  { name: "a pipeline's builds, page 3", route: 'GET …/builds?page[number]=3', run: (db, id) => listBuilds(db, { pipelineId: id, page: 3 }) },
  { name: "a pipeline's main-branch builds", route: 'GET …/builds?filter[branch]=main', run: (db, id) => listBuilds(db, { pipelineId: id, branch: 'main' }) },
  { name: 'recent build per branch', route: 'GET …/recentbuilds', run: (db, id) => latestBuildPerBranch(db, id) },
  { name: 'insights: build durations (last 50)', route: 'GET …/stats/buildsdurations', run: (db, id) => buildDurations(db, id, 50) },
  { name: 'insights: success rate (all time)', route: 'GET …/stats/buildssuccessrate', run: (db, id) => buildSuccessRate(db, id) },
  { name: 'insights: success rate (7 days)', route: 'GET …/stats/buildssuccessrate?since=7d', run: (db, id) => buildSuccessRate(db, id, new Date(Date.now() - 7 * DAY_SECONDS * 1000)) },
  { name: 'insights: releases', route: 'GET …/stats/releases', run: (db, id) => releaseStats(db, id) },
  { name: 'all builds, page 1', route: 'GET /api/builds', run: (db) => listBuilds(db, {}) },
  { name: 'stats: pipelines count', route: 'GET /api/stats/pipelinescount', run: (db) => countPipelines(db, {}) },
  { name: 'stats: builds count', route: 'GET /api/stats/buildscount', run: (db) => countBuilds(db, {}) },
  { name: 'stats: failed builds count', route: 'GET /api/stats/buildscount?filter[status]=failed', run: (db) => countBuilds(db, { statuses: ['failed'] }) },
  { name: 'stats: builds count, last 24 h', route: 'GET /api/stats/buildscount?filter[since]=1d', run: (db) => countBuilds(db, { since: new Date(Date.now() - DAY_SECONDS * 1000) }) },
];

/** Median and p95 of each case over `runs` calls (after 3 warm-ups), rotating over `pipelineIds`. */
async function timeCases(pool: pg.Pool, runs: number, pipelineIds: string[]): Promise<Map<string, { p50: number; p95: number }>> {
  const out = new Map<string, { p50: number; p95: number }>();
  for (const c of CASES) {
    for (let i = 0; i < 3; i++) await c.run(pool, pipelineIds[i % pipelineIds.length]!);
    const xs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await c.run(pool, pipelineIds[i % pipelineIds.length]!);
      xs.push(performance.now() - t);
    }
    out.set(c.name, { p50: median(xs), p95: quantile(xs, 0.95) });
  }
  return out;
}

/** EXPLAIN (ANALYZE, BUFFERS) of every statement `c` runs, trimmed to the plan's first lines. */
async function explain(pool: pg.Pool, c: Case, pipelineId: string): Promise<string> {
  const db = recording(pool);
  await c.run(db, pipelineId);
  const parts: string[] = [];
  for (const s of db.statements) {
    const r = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${s.text}`, s.values);
    const lines = r.rows.map((x) => x['QUERY PLAN']);
    const head = lines.slice(0, 8);
    const tail = lines.length > 8 ? ['…', ...lines.filter((l) => /Execution Time/.test(l))] : [];
    parts.push([`${s.text.replace(/\s+/g, ' ').slice(0, 160)}…`, ...head, ...tail].join('\n'));
  }
  return parts.join('\n\n');
}

/** Runs the benchmark; 1k pipelines / 100k builds, 10k / 1M with `full`. */
export async function run({ full }: { full: boolean }): Promise<void> {
  const pipelines = full ? 10_000 : 1_000;
  const builds = full ? 1_000_000 : 100_000;
  const baseBuilds = 10_000;
  const runs = full ? 100 : 30;
  await withCleanup(async (defer) => {
    const small = await benchDatabase('bench_scale_small');
    defer(small.drop);
    const large = await benchDatabase('bench_scale_large');
    defer(large.drop);
    const smallPool = createPool(small.url);
    defer(() => smallPool.end());
    const largePool = createPool(large.url);
    defer(() => largePool.end());

    let t = performance.now();
    await seed(smallPool, pipelines, baseBuilds);
    const seedSmall = performance.now() - t;
    t = performance.now();
    await seed(largePool, pipelines, builds);
    const seedLarge = performance.now() - t;

    // The same pipelines in both databases, spread over the id range.
    const ids = Array.from({ length: 10 }, (_, i) => String(1 + Math.floor((i * pipelines) / 10)));
    const base = await timeCases(smallPool, runs, ids);
    const big = await timeCases(largePool, runs, ids);

    const rows: Array<Array<string | number>> = [];
    const missed: Case[] = [];
    for (const c of CASES) {
      const a = base.get(c.name)!;
      const b = big.get(c.name)!;
      const ratio = b.p50 / a.p50;
      // Sub-millisecond queries are dominated by the round trip: a ratio of two tiny numbers is noise.
      const ok = ratio <= 2 || b.p50 < 1;
      if (!ok) missed.push(c);
      rows.push([c.name, c.route, ms(a.p50), ms(a.p95), ms(b.p50), ms(b.p95), `${ratio.toFixed(2)}×`, ok ? 'met' : 'missed']);
    }
    const k = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);
    const tbl = table(['query (shared/db)', 'API route', `p50 ms @ ${k(baseBuilds)} builds`, 'p95', `p50 ms @ ${k(builds)} builds`, 'p95', 'ratio', 'goal ≤ 2×'], rows);
    console.log(tbl);
    let body = `${k(pipelines)} pipelines in both databases; ${k(baseBuilds)} builds (baseline) and ${k(builds)} builds (${builds / pipelines} per pipeline), spread over 30 days, 10% failed, one release per pipeline. Seeding took ${(seedSmall / 1000).toFixed(1)} s and ${(seedLarge / 1000).toFixed(1)} s. ${runs} calls per query after 3 warm-ups, rotating over 10 pipelines, from this process through the pg pool the functions use. A query under 1 ms at the large size counts as met whatever its ratio.\n\n${tbl}\n`;
    body += missed.length ? `\nMissed: ${missed.map((c) => c.name).join('; ')}. Their plans at ${k(builds)} builds:\n` : `\nEvery query stays within 2× of its figure at ${k(baseBuilds)} builds.\n`;
    for (const c of missed) body += `\n**${c.name}** (${c.route}):\n\n\`\`\`\n${await explain(largePool, c, ids[0]!)}\n\`\`\`\n`;
    writeSection('scale', section('Scale', body));
  });
}
