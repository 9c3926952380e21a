/**
 * Benchmark 3, cold start: from spawning a function's production process
 * (`node --import tsx shared/http/serve.ts <function>`) to its first successful answer, the median
 * of 10 starts (3 at the quick size), next to a bare Node http server started the same way in the
 * same run — plain `node` (the baseline of the goal) and under `--import tsx` (to show what the
 * TypeScript loader alone costs). For webhook-ingest the first handled request is also timed:
 * functions open their connections lazily, on the first request after a cold start.
 * Goal: < 3× the bare server. When missed, a `--cpu-prof` start of the slowest function is summarised.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUNCTION_NAMES } from '../shared/http/functions.ts';
import { spawnBare } from './bare-server.ts';
import { profileMarkdown, summariseProfileDir } from './cpu-profile.ts';
import { benchDatabase, benchStream, freePort, median, spawnNode, withCleanup, type Proc } from './environment.ts';
import { ms, section, table, writeSection } from './report.ts';

/** Resolves with the status of GET url, or undefined when nothing answers yet. */
const get = (url: string): Promise<number | undefined> =>
  new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(undefined));
    req.end();
  });

/** Polls `url` every millisecond until it answers 200; ms since `t0`, or throws after 60 s. */
async function firstOk(url: string, t0: number, proc: Proc): Promise<number> {
  for (;;) {
    if ((await get(url)) === 200) return performance.now() - t0;
    if (proc.child.exitCode !== null) throw new Error(`exited with ${proc.child.exitCode} before answering:\n${proc.output().slice(0, 2000)}`);
    if (performance.now() - t0 > 60_000) throw new Error(`no answer from ${url} in 60 s`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

interface Start {
  ready: number;
  firstRequest?: number;
}

/** Runs the benchmark; 3 starts per server, 10 with `full`. */
export async function run({ full }: { full: boolean }): Promise<void> {
  const starts = full ? 10 : 3;
  await withCleanup(async (defer) => {
    const db = await benchDatabase('bench_cold');
    defer(db.drop);
    const bus = benchStream('BENCH_COLD');
    defer(bus.drop);
    const env = {
      ...bus.env, DATABASE_URL: db.url, K_SINK: undefined, ESTAFETTE_JWT_KEY: 'bench-key', ESTAFETTE_SECRET_KEY: randomBytes(32).toString('base64'),
      GITHUB_WEBHOOK_SECRET: 'bench-secret', JOB_RUNNER: 'local',
    };

    const startFunction = async (name: string, nodeArgs: string[] = []): Promise<Start & { proc: Proc }> => {
      const port = await freePort();
      const t0 = performance.now();
      const proc = spawnNode([...nodeArgs, 'shared/http/serve.ts', name], { ...env, PORT: String(port) });
      try {
        const ready = await firstOk(`http://127.0.0.1:${port}/liveness`, t0, proc);
        const firstRequest = name === 'webhook-ingest' ? await firstOk(`http://127.0.0.1:${port}/api/integrations/github/status`, t0, proc) : undefined;
        return { ready, firstRequest, proc };
      } catch (err) {
        await proc.stop();
        throw err;
      }
    };
    const measure = async (start: () => Promise<Start & { proc: Proc }>): Promise<{ ready: number[]; first: number[] }> => {
      const ready: number[] = [];
      const first: number[] = [];
      for (let i = 0; i < starts; i++) {
        const s = await start();
        await s.proc.stop();
        ready.push(s.ready);
        if (s.firstRequest !== undefined) first.push(s.firstRequest);
      }
      return { ready, first };
    };
    const bare = (tsx: boolean) => async () => {
      const port = await freePort();
      const t0 = performance.now();
      const proc = spawnBare(port, { tsx });
      return { ready: await firstOk(`http://127.0.0.1:${port}/`, t0, proc), proc };
    };

    // Warm the file system cache and tsx's transform cache once, as a deployed image has them.
    await (await startFunction('webhook-ingest').catch(() => undefined))?.proc.stop();

    const baseline = await measure(bare(false));
    const bareTsx = await measure(bare(true));
    const base = median(baseline.ready);
    const rows: Array<Array<string | number>> = [
      ['bare node http (baseline)', ms(base), '1.0×', '', ''],
      ['bare node http under --import tsx', ms(median(bareTsx.ready)), `${(median(bareTsx.ready) / base).toFixed(1)}×`, '', ''],
    ];
    const results: Array<{ name: string; ready: number }> = [];
    const failures: string[] = [];
    for (const name of FUNCTION_NAMES) {
      try {
        const r = await measure(() => startFunction(name));
        const m = median(r.ready);
        results.push({ name, ready: m });
        rows.push([name, ms(m), `${(m / base).toFixed(1)}×`, m / base < 3 ? 'met' : 'missed', r.first.length ? ms(median(r.first)) : '']);
      } catch (err) {
        failures.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
        rows.push([name, 'did not start', '', '', '']);
      }
    }
    const tbl = table(['server', 'spawn → first 200 (median ms)', 'vs bare', 'goal < 3×', 'spawn → first handled request (ms)'], rows);
    console.log(tbl);
    let body = `Median of ${starts} starts each, polling \`GET /liveness\` every millisecond from the spawn; the last column is webhook-ingest's \`GET /api/integrations/github/status\`, the first request that builds its dependencies.\n\n${tbl}\n`;
    if (failures.length) body += `\n${failures.map((f) => `- ${f}`).join('\n')}\n`;

    const slowest = results.sort((a, b) => b.ready - a.ready)[0];
    if (slowest && slowest.ready / base >= 3) {
      const dir = mkdtempSync(join(tmpdir(), 'bench-prof-'));
      defer(() => rmSync(dir, { recursive: true, force: true }));
      const s = await startFunction(slowest.name, ['--cpu-prof', '--cpu-prof-dir', dir]);
      await s.proc.stop();
      try {
        const p = summariseProfileDir(dir);
        body += `\nGoal missed. Profile of one start of ${slowest.name} (\`node --cpu-prof\`, self time of its busiest thread, spawn to exit):\n\n`;
        body += profileMarkdown(p);
      } catch (err) {
        body += `\n(profile not written: ${(err as Error).message})\n`;
      }
    }
    writeSection('cold-start', section('Cold start', body));
  });
}
