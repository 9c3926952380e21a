/**
 * Benchmark: query-api's two hottest reads over HTTP — the latest builds of one pipeline and the
 * pipelines list — on a database seeded in SQL (generate_series, bench/scale.ts seed) with 10k
 * pipelines and 1M builds (quick: 1k / 100k). query-api runs as production starts it
 * (`shared/http/serve.ts query-api`); a bare node server answering the same JSON size is the
 * baseline of the HTTP overhead. Reports p50/p99 per route; goal: p99 under 20 ms.
 */
import autocannon from 'autocannon';
import { createPool } from '../shared/db/pool.ts';
import { benchDatabase, freePort, spawnFunction, waitForHttp, withCleanup } from './environment.ts';
import { ms, section, table, writeSection } from './report.ts';
import { seed } from './scale.ts';

const CONNECTIONS = Number(process.env.BENCH_QUERY_CONNECTIONS ?? 1);

interface Load {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
}

async function load(url: string, paths: string[], seconds: number): Promise<Load> {
  let i = 0;
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, non2xx: r.non2xx + r.errors + r.timeouts };
}

/** Runs the benchmark and writes its section. */
export async function run({ full }: { full: boolean }): Promise<void> {
  const pipelines = full ? 10_000 : 1_000;
  const builds = full ? 1_000_000 : 100_000;
  const seconds = full ? 10 : 4;
  await withCleanup(async (defer) => {
    const db = await benchDatabase('bench_query');
    defer(db.drop);
    const pool = createPool(db.url);
    defer(() => pool.end());
    const t = Date.now();
    await seed(pool, pipelines, builds);
    const seedSeconds = (Date.now() - t) / 1000;

    const port = await freePort();
    const proc = spawnFunction('query-api', { DATABASE_URL: db.url, NATS_URL: undefined, K_SINK: undefined, ESTAFETTE_AUTH: undefined, PORT: String(port) });
    defer(proc.stop);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/liveness`).catch((err) => {
      throw new Error(`${(err as Error).message}\n${proc.output()}`);
    });
    // Different pipelines on every request so no single page stays hot in one place only.
    const repos = Array.from({ length: 200 }, (_, i) => 1 + ((i * 7919) % pipelines));
    const cases: Array<{ name: string; paths: string[] }> = [
      { name: 'latest builds of one pipeline `GET /api/pipelines/:s/:o/:r/builds`', paths: repos.map((p) => `/api/pipelines/github.com/owner-${p % 100}/repo-${p}/builds`) },
      { name: 'pipelines list `GET /api/pipelines`', paths: ['/api/pipelines'] },
      { name: 'pipelines list, label filter + page 5 `GET /api/pipelines?filter[labels]=team=team-3&page[number]=5`', paths: ['/api/pipelines?filter[labels]=team%3Dteam-3&page[number]=5'] },
      { name: 'one build `GET …/builds/:id`', paths: repos.map((p) => `/api/pipelines/github.com/owner-${p % 100}/repo-${p}/builds/${p}`) },
    ];
    for (const c of cases) {
      const res = await fetch(`${url}${c.paths[0]}`);
      if (res.status !== 200) throw new Error(`${c.paths[0]} answered ${res.status}: ${await res.text()}\n${proc.output()}`);
      await res.arrayBuffer();
      await load(url, c.paths, 1); // warm-up: pool connections, plans, caches
    }
    const rows: Array<Array<string | number>> = [];
    let worst = 0;
    for (const c of cases) {
      const r = await load(url, c.paths, seconds);
      worst = Math.max(worst, r.p99);
      rows.push([c.name, r.rps.toFixed(0), ms(r.p50), ms(r.p99), r.requests, r.non2xx]);
    }
    const tbl = table(['route', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'errors'], rows);
    console.log(tbl);
    const ok = worst < 20;
    const body = `${pipelines.toLocaleString('en')} pipelines and ${builds.toLocaleString('en')} builds (${(builds / pipelines).toFixed(0)} per pipeline, seeded in SQL in ${seedSeconds.toFixed(0)} s), one release per pipeline; query-api via serve.ts, sign-in off; autocannon with ${CONNECTIONS} connections, ${seconds} s per route after 1 s of warm-up, in the benchmark process.\n\n${tbl}\n\n- Worst p99: ${ms(worst)} ms (goal < 20 ms): **${ok ? 'met' : 'missed'}**\n`;
    writeSection('query', section('Query', body));
  });
}
