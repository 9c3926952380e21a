/**
 * Benchmark: the web UI on a 100,000-line ANSI log in Debian's chromium (playwright-core) — time
 * to the first painted line, to every line loaded, scroll frame rate, and (this UI) the time to
 * show a search match far down the log — for this checkout's UI and, as the same-run baseline,
 * the UI of `BENCH_UI_BASELINE` (default `main`, built from `git archive`), both served by the
 * same in-process query-api on one database. Also what compression does to the log's JSON pages
 * and the server-side search and plain-text download on a 1M-line log (quick: 200k).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { makeHandler } from '../functions/query-api/handler.ts';
import { MemoryLiveLogs } from '../shared/bus/live-logs.ts';
import { createBuild, transitionBuildStatus } from '../shared/db/builds.ts';
import { appendLogLines } from '../shared/db/logs.ts';
import { upsertPipeline } from '../shared/db/pipelines.ts';
import { createPool } from '../shared/db/pool.ts';
import { upsertStageRuns } from '../shared/db/stages.ts';
import { toNodeListener } from '../shared/http/node-adapter.ts';
import { createLogger } from '../shared/log/logger.ts';
import type { LogLine } from '../shared/logs/protocol.ts';
import { benchDatabase, median, withCleanup } from './environment.ts';
import { ms, section, table, writeSection } from './report.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const UI_LINES = 100_000;
const NEEDLE_AT = 87_654;
const RUNS = 3;
const quiet = createLogger({ level: 'silent' });

const colours = ['31', '32', '33', '34', '1;35', '36', '90'];
const uiLine = (seq: number): LogLine => ({
  seq,
  stage: 'build',
  run: 1,
  stream: seq % 11 === 0 ? 'stderr' : 'stdout',
  time: new Date(Date.UTC(2026, 0, 1) + seq).toISOString(),
  text: seq === NEEDLE_AT ? 'the NEEDLE in the haystack' : `\u001b[${colours[seq % colours.length]}m[${String(seq).padStart(6, '0')}]\u001b[0m step ${seq} compiled \u001b[32mok\u001b[0m in ${seq % 97} ms`,
});

/** Builds the UI of git ref `ref` into a temp folder; returns its dist and a cleanup. */
function buildBaseline(ref: string): { dist: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ui-'));
  execFileSync('sh', ['-c', `git -C "${ROOT}" archive "${ref}" frontend | tar -x -C "${dir}"`]);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', join(dir, 'frontend/vite.config.ts'), '--logLevel', 'error'], { cwd: dir });
  return { dist: join(dir, 'frontend/dist'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const listen = (s: Server) => new Promise<string>((r) => s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

/** Bytes of a GET as sent (no decompression), and the time to the last byte. */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ bytes: number; ms: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ bytes, ms: performance.now() - t }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

interface UiRun {
  firstLine: number;
  allLines: number;
  fps: number;
  p95Frame: number;
  search?: number;
}

async function measureUi(browser: Browser, url: string, withSearch: boolean): Promise<UiRun> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await page.goto(url);
    // In-page code as source text: the TypeScript loader would add helpers the page does not have.
    const firstLine = await page.evaluate<number>(`new Promise((r) => {
      const check = () => (document.querySelector('.log-line') ? r(performance.now()) : requestAnimationFrame(check));
      check();
    })`);
    const allLines = await page.evaluate<number>(`new Promise((r) => {
      const check = () => (Number(document.querySelector('[role="log"]')?.getAttribute('data-lines')) >= ${UI_LINES} ? r(performance.now()) : requestAnimationFrame(check));
      check();
    })`);
    const frames = await page.evaluate<number[]>(`new Promise((r) => {
      const el = document.querySelector('[role="log"]');
      el.scrollTop = 0;
      const times = [];
      let last = performance.now();
      const step = () => {
        const now = performance.now();
        times.push(now - last);
        last = now;
        el.scrollTop += 1500;
        el.dispatchEvent(new Event('scroll'));
        if (times.length < 180) requestAnimationFrame(step);
        else r(times.slice(1));
      };
      requestAnimationFrame(step);
    })`);
    const sorted = [...frames].sort((a, b) => a - b);
    const run: UiRun = { firstLine, allLines, fps: 1000 / (frames.reduce((a, b) => a + b, 0) / frames.length), p95Frame: sorted[Math.floor(sorted.length * 0.95)]! };
    if (withSearch) {
      const box = page.getByLabel('Search the whole log');
      const t = await page.evaluate<number>('performance.now()');
      await box.fill('needle');
      await page.locator('.log-line.match').waitFor({ timeout: 30_000 });
      run.search = (await page.evaluate<number>('performance.now()')) - t;
    }
    return run;
  } finally {
    await page.close();
  }
}

/** Runs the benchmark and writes its section. */
export async function run({ full }: { full: boolean }): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install -y chromium)`);
  const bigLines = full ? 1_000_000 : 200_000;
  const ref = process.env.BENCH_UI_BASELINE ?? 'main';
  await withCleanup(async (defer) => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'frontend/vite.config.ts', '--logLevel', 'error'], { cwd: ROOT });
    const baseline = buildBaseline(ref);
    defer(baseline.remove);
    const db = await benchDatabase('bench_ui');
    defer(db.drop);
    const pool = createPool(db.url, { max: 8 });
    defer(() => pool.end());

    const seedJob = async (name: string, lines: number, make: (seq: number) => LogLine) => {
      const p = await upsertPipeline(pool, { repoSource: 'github.com', repoOwner: 'bench', repoName: name });
      const { build } = await createBuild(pool, { pipelineId: p.id, repoSource: 'github.com', repoOwner: 'bench', repoName: name, branch: 'main', version: '1.0.0' });
      await transitionBuildStatus(pool, build.id, 'running');
      for (let i = 0; i < lines; i += 50_000)
        await appendLogLines(
          pool,
          'build',
          build.id,
          Array.from({ length: Math.min(50_000, lines - i) }, (_, k) => make(i + k)),
        );
      await upsertStageRuns(pool, 'build', build.id, [{ stage: 'build', run: 1, kind: 'stage', status: 'succeeded', durationMs: 1000 }]);
      await transitionBuildStatus(pool, build.id, 'succeeded');
      return `/api/pipelines/github.com/bench/${name}/builds/${build.id}`;
    };
    const t0 = performance.now();
    const uiPath = await seedJob('ui-log', UI_LINES, uiLine);
    // Every line coloured, as the worst case for search (escapes are stripped before comparing).
    const bigPath = await seedJob('huge-log', bigLines, (seq) => ({ ...uiLine(seq), text: seq === bigLines - 3 ? 'the NEEDLE at the end' : uiLine(seq === NEEDLE_AT ? seq + 1 : seq).text }));
    const seedSeconds = (performance.now() - t0) / 1000;

    const servers = [baseline.dist, join(ROOT, 'frontend/dist')].map((staticDir) =>
      createServer(toNodeListener(makeHandler({ pool, liveLogs: new MemoryLiveLogs(), publish: async () => ({ duplicate: false }), auth: { enabled: false }, staticDir, log: quiet }), { log: quiet })),
    );
    const [baseUrl, thisUrl] = [await listen(servers[0]!), await listen(servers[1]!)];
    defer(() => servers.forEach((s) => (s.closeAllConnections(), s.close())));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    defer(() => browser.close());

    const page = uiPath.replace('/api', '');
    const results: Record<string, UiRun[]> = { baseline: [], 'this UI': [] };
    // Alternate the two so drift on a shared machine hits both alike.
    for (let i = 0; i < RUNS; i++) {
      results.baseline!.push(await measureUi(browser, `${baseUrl}${page}`, false));
      results['this UI']!.push(await measureUi(browser, `${thisUrl}${page}`, true));
    }
    const row = (name: string, runs: UiRun[]) => [
      name,
      ms(median(runs.map((r) => r.firstLine))),
      ms(median(runs.map((r) => r.allLines))),
      median(runs.map((r) => r.fps)).toFixed(0),
      ms(median(runs.map((r) => r.p95Frame))),
      runs[0]!.search === undefined ? '—' : ms(median(runs.map((r) => r.search!))),
    ];

    const sizes = [];
    for (const [label, headers] of [
      ['identity', {}],
      ['gzip', { 'accept-encoding': 'gzip' }],
      ['br', { 'accept-encoding': 'br' }],
    ] as const) {
      let bytes = 0;
      let total = 0;
      for (let after = -1; after < UI_LINES - 1; after += 5000) {
        const r = await rawGet(`${thisUrl}${uiPath}/loglines?limit=5000&after=${after}`, headers);
        bytes += r.bytes;
        total += r.ms;
      }
      sizes.push([label, `${(bytes / 1e6).toFixed(2)} MB`, ms(total)]);
    }
    const searches: number[] = [];
    for (let i = 0; i < 5; i++) searches.push((await rawGet(`${thisUrl}${bigPath}/loglines?q=needle`)).ms);
    const text = await rawGet(`${thisUrl}${bigPath}/logs.txt`);
    const textGz = await rawGet(`${thisUrl}${bigPath}/logs.txt`, { 'accept-encoding': 'gzip' });

    const body = [
      `A build with ${UI_LINES.toLocaleString('en')} ANSI-coloured lines in one stage (seeded in ${seedSeconds.toFixed(1)} s with a ${bigLines.toLocaleString('en')}-line one), query-api in this process on PostgreSQL, chromium headless at 1280×900; median of ${RUNS} alternating runs. Times from navigation start; scroll: 180 animation frames moving 1,500 px each.`,
      '',
      table(['UI', 'first line painted ms', 'all lines loaded ms', 'scroll fps', 'p95 frame ms', 'search → match shown ms'], [row(`baseline (${ref})`, results.baseline!), row('this checkout', results['this UI']!)]),
      '',
      `The ${UI_LINES.toLocaleString('en')}-line log as the UI loads it (20 pages of 5,000 lines of JSON), by Accept-Encoding:`,
      '',
      table(['encoding', 'bytes on the wire', 'time for all pages ms'], sizes),
      '',
      `The ${bigLines.toLocaleString('en')}-line log (every line coloured) on the server: search (\`…/loglines?q=needle\`, the match near the end) p50 ${ms(median(searches))} ms; plain text (\`…/logs.txt\`) ${(text.bytes / 1e6).toFixed(1)} MB in ${ms(text.ms)} ms, ${(textGz.bytes / 1e6).toFixed(1)} MB gzip in ${ms(textGz.ms)} ms.`,
    ].join('\n');
    console.log(body);
    writeSection('ui-log', section('Web UI on a 100,000-line log', body));
  });
}
