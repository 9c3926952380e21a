/**
 * The daily loop in a real browser (Debian chromium, playwright-core) against a real
 * `estafette start --demo` with its own database: a failed build opens on its error line with a
 * summary; raw and download; timestamps remembered; `#L<n>` links and line numbers that are not
 * Tab stops; ANSI colours readable (WCAG AA) on every line background; search across a
 * 100,000-line log finding a line far outside the rendered window; a live build listing its
 * pending stages, following the printing stage and never taking away the user's pick; the tab's
 * title and favicon showing the status; Rebuild and "Re-run failed stages" going to the new
 * build; the cross-pipeline Builds and Releases pages with running rows' time left and filters;
 * a pipeline's branch/status filters; the theme toggle; triggers in words; insights axes.
 * Screenshots of each state go to test-output/screenshots/.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freshDatabase, requireService } from '../support/services.ts';
import { startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { CHROMIUM, CHROMIUM_ARGS, contrasts, ensureUiBuilt, loud, pushedRepo, shot, until, type PushedRepo } from './support.ts';

const BIG_LINES = 100_000;
const BIG_MANIFEST = `labels:
  app: big-log
stages:
  print:
    image: alpine:3.20
    commands:
    - seq -f 'line %06g of the big log, nothing to see here' 1 87653
    - echo "the $(echo NEE)DLE in the haystack"
    - seq -f 'line %06g of the big log, nothing to see here' 87655 ${BIG_LINES}
`;

/** Every SGR colour a program may print: 16 foregrounds, 16 backgrounds, the 256-colour palette, some true colours, dim. */
const COLOUR_COMMANDS = [
  `for c in 30 31 32 33 34 35 36 37 90 91 92 93 94 95 96 97; do printf '\\033[%sm fg %s \\033[0m\\n' $c $c; done`,
  `for c in 40 41 42 43 44 45 46 47 100 101 102 103 104 105 106 107; do printf '\\033[%sm bg %s \\033[0m\\n' $c $c; done`,
  `for c in $(seq 0 255); do printf '\\033[38;5;%sm p%s \\033[0m' $c $c; done; echo`,
  `printf '\\033[38;2;20;20;60m navy \\033[0m \\033[38;2;90;0;0m maroon \\033[0m \\033[2m dim \\033[0m \\033[1;34m bold blue \\033[0m \\033[7m inverse \\033[0m\\n'`,
];

const FAILING_MANIFEST = `labels:
  app: failing
version:
  semver:
    major: 0
    minor: 3
stages:
  prepare:
    image: alpine:3.20
    commands:
${COLOUR_COMMANDS.map((c) => `    - ${JSON.stringify(c)}`).join('\n')}
  test:
    image: alpine:3.20
    commands:
    - for i in $(seq 1 60); do echo "test $i ok"; done
    - 'echo "Error: expected 2, got 3" >&2'
    - exit 3
  package:
    image: alpine:3.20
    commands:
    - echo never
`;

const LIVE_MANIFEST = `labels:
  app: live-stages
stages:
  first:
    image: alpine:3.20
    commands:
    - for i in $(seq 1 20); do echo "first $i"; sleep 0.2; done
  second:
    image: alpine:3.20
    commands:
    - for i in $(seq 1 400); do echo "second $i"; sleep 0.2; done
  third:
    image: alpine:3.20
    commands:
    - echo third
  fourth:
    image: alpine:3.20
    commands:
    - echo fourth
`;

const timed = (seconds: number) => `labels:
  app: timed
stages:
  work:
    image: alpine:3.20
    commands:
    - sleep ${seconds}
    - echo done
`;

interface ApiBuild {
  id: string;
  repoName: string;
  buildStatus: string;
  buildNumber: number;
  buildVersion: string;
  repoBranch: string;
  trigger: { event: string; fields: Record<string, string> } | null;
  commits: Array<{ message: string; author: { name: string } }>;
}

describe('web UI for daily use, in a real browser (estafette start --demo)', function () {
  this.timeout(180_000);
  let sys: LocalSystem | undefined;
  let browser: Browser | undefined;
  let drop: (() => Promise<void>) | undefined;
  const repos: PushedRepo[] = [];
  const pageErrors: string[] = [];
  let big: ApiBuild;
  let failed: ApiBuild;

  const api = async <T>(path: string): Promise<T> => {
    const r = await sys!.api<T>(path);
    if (r.status !== 200) throw new Error(`${path}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const PL = (owner: string, name: string) => `/pipelines/local/${owner}/${name}`;
  const buildsOf = async (owner: string, name: string) => (await api<{ items: ApiBuild[] }>(`/api${PL(owner, name)}/builds`)).items;
  const buildIn = (owner: string, name: string, statuses: string[], what: string, timeoutMs = 90_000) =>
    until(what, async () => (await buildsOf(owner, name).catch(() => [])).find((b) => statuses.includes(b.buildStatus)), timeoutMs);

  async function open(path: string, opts: { width?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: opts.width ?? 1280, height: 900 }, colorScheme: opts.colorScheme ?? 'light', acceptDownloads: true });
    page.on('pageerror', (err) => pageErrors.push(`${path}: ${err.message}`));
    await page.goto(`${sys!.url}${path}`);
    return page;
  }
  const repo = (owner: string, name: string) => {
    const r = pushedRepo(sys!.url, sys!.token, owner, name);
    repos.push(r);
    return r;
  };
  const inView = (page: Page, selector: string) =>
    page.locator(selector).evaluate((el) => {
      const log = el.closest('.log')!.getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.top >= log.top && r.bottom <= log.bottom;
    });

  let failingRepo: PushedRepo;
  let timedRepo: PushedRepo;

  before(async function () {
    this.timeout(300_000);
    if (!existsSync(CHROMIUM)) loud(`${CHROMIUM} is missing (apt-get install -y chromium)`, this);
    const db = await freshDatabase(await requireService(this, 'postgres'), 'uid');
    drop = db.drop;
    ensureUiBuilt();
    // The in-memory bus: a shared NATS would mix this run's events with other runs'.
    sys = await startLocalSystem({ args: ['--demo'], env: { DATABASE_URL: db.url, NATS_URL: undefined, ESTAFETTE_WEBHOOK_TOKEN: 'ui-daily-token' }, timeoutMs: 90_000 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

    const bigRepo = repo('logs', 'big-log');
    bigRepo.commit({ '.estafette.yaml': BIG_MANIFEST }, 'A log of a hundred thousand lines');
    failingRepo = repo('team', 'failing');
    failingRepo.commit({ '.estafette.yaml': FAILING_MANIFEST }, 'Make the tests strict\n\nThey failed silently before.', 'Ada Lovelace');
    timedRepo = repo('team', 'timed');
    timedRepo.commit({ '.estafette.yaml': timed(5) }, 'Takes five seconds');
    await Promise.all([bigRepo.push(), failingRepo.push(), timedRepo.push()]);
    failed = await buildIn('team', 'failing', ['failed'], 'the failing build to fail');
    big = await buildIn('logs', 'big-log', ['succeeded'], 'the 100k-line build to succeed', 150_000);
    await buildIn('team', 'timed', ['succeeded'], 'the timed build to succeed');
    await buildIn('demo', 'estafette-demo', ['succeeded'], 'the demo build to succeed');
  });

  after(async function () {
    this.timeout(60_000);
    await browser?.close().catch(() => undefined);
    await sys?.stop();
    await drop?.().catch(() => undefined);
    repos.forEach((r) => r.remove());
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && sys) console.log(`--- estafette start output (last 40 lines) ---\n${sys.output().split('\n').slice(-40).join('\n')}`);
  });

  it('opens a failed build on its first failed stage, scrolled to the error line, with a summary linking to it', async () => {
    const page = await open(`${PL('team', 'failing')}/builds/${failed.id}`);
    const errorLine = page.locator('.log-line.error-line');
    await errorLine.waitFor();
    expect(await page.locator('.log-head .stage-name').innerText()).to.equal('test');
    expect(await page.locator('[role="treeitem"][data-stage="test"]').getAttribute('aria-selected')).to.equal('true');
    expect(await errorLine.locator('.lt').innerText()).to.equal('Error: expected 2, got 3');
    await until('the error line scrolled into view', () => inView(page, '.log-line.error-line'), 10_000);
    const summary = page.locator('.failure-summary');
    expect(await summary.locator('.failed-stage').innerText()).to.equal('test');
    expect(await summary.locator('.exit-code').innerText()).to.equal('3');
    expect(await summary.locator('.error-text').innerText()).to.equal('Error: expected 2, got 3');
    const n = await errorLine.getAttribute('data-line');
    expect(await summary.locator('a.error-link').getAttribute('href')).to.equal(`#L${n}`);
    await shot(page, 'build-failed');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'build-failed-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
    // The summary link is a permalink: it marks the line as the linked one too.
    await summary.locator('a.error-link').click();
    await page.locator(`.log-line.target[data-line="${n}"]`).waitFor();
    expect(new URL(page.url()).hash).to.equal(`#L${n}`);
    await page.close();
  });

  it('offers the raw log and a download of it', async () => {
    const page = await open(`${PL('team', 'failing')}/builds/${failed.id}`);
    await page.locator('.log-line.error-line').waitFor();
    const raw = page.getByRole('link', { name: 'Raw', exact: true });
    const href = (await raw.getAttribute('href'))!;
    expect(href).to.equal(`/api${PL('team', 'failing')}/builds/${failed.id}/logs.txt`);
    expect(await raw.getAttribute('target')).to.equal('_blank');
    const text = await (await page.request.get(`${sys!.url}${href}`)).text();
    expect(text).to.match(/^Build 0\.3\.1 \(#1\) of local\/team\/failing, branch main at [0-9a-f]{7}: failed\n/);
    expect(text).to.include('=== test: failed in ');
    expect(text).to.include('\nError: expected 2, got 3\n');
    expect(text).to.not.include('\u001b[');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download', exact: true }).click()]);
    expect(download.suggestedFilename()).to.equal('failing-0.3.1-build-1.log');
    expect(readFileSync((await download.path())!, 'utf8')).to.equal(text);
    // The selected stage's own raw log.
    const stageRaw = await (await page.request.get(`${sys!.url}${await page.locator('a.raw-stage').getAttribute('href')}`)).text();
    expect(stageRaw.split('\n').filter((l) => l.startsWith('==='))).to.deep.equal([stageRaw.split('\n')[1]]);
    expect(stageRaw).to.include('=== test: failed');
    await page.close();
  });

  it('shows timestamps absolute or relative to the stage start, and remembers the choice', async () => {
    const page = await open(`${PL('team', 'failing')}/builds/${failed.id}`);
    await page.locator('.log-line.error-line').waitFor();
    expect(await page.locator('.log-line .ts').count()).to.equal(0);
    const select = page.getByLabel('Timestamps');
    await select.selectOption('relative');
    const first = page.locator('.log-line .ts').first();
    await first.waitFor();
    expect(await first.innerText()).to.match(/^\+0:0\d\.\d{3}$/);
    await select.selectOption('absolute');
    await until('clock times', async () => /^\d\d:\d\d:\d\d\.\d{3}$/.test(await first.innerText()), 5_000);
    await shot(page, 'build-timestamps');
    await page.reload();
    await page.locator('.log-line.error-line').waitFor();
    expect(await page.getByLabel('Timestamps').inputValue()).to.equal('absolute');
    expect(await page.locator('.log-line .ts').first().innerText()).to.match(/^\d\d:\d\d:\d\d\.\d{3}$/);
    await page.getByLabel('Timestamps').selectOption('off');
    await until('no timestamps', async () => (await page.locator('.log-line .ts').count()) === 0, 5_000);
    await page.close();
  });

  it('highlights the line numbered n for #L<n>, and line numbers are not Tab stops', async () => {
    const page = await open(`${PL('team', 'failing')}/builds/${failed.id}#L2`);
    const target = page.locator('.log-line.target');
    await target.waitFor();
    expect(await target.getAttribute('data-line')).to.equal('2');
    expect(await target.locator('a.ln').innerText()).to.equal('2');
    expect(await page.locator('.log-head .stage-name').innerText()).to.equal('git-clone');
    expect(await page.locator('.log a.ln').evaluateAll((as) => as.every((a) => (a as HTMLElement).tabIndex === -1))).to.equal(true);
    await page.locator('[role="log"]').focus();
    await page.keyboard.press('Tab');
    const next = await page.evaluate(() => ({ inLog: !!document.activeElement?.closest('.log'), tag: document.activeElement?.tagName }));
    expect(next.inLog, `focus went to ${next.tag}`).to.equal(false);
    await page.close();
  });

  it('draws every ANSI colour with at least 4.5:1 contrast, also on the linked and the matched line', async () => {
    const page = await open(`${PL('team', 'failing')}/builds/${failed.id}`);
    await page.locator('.log-line.error-line').waitFor();
    await page.locator('[role="treeitem"][data-stage="prepare"]').click();
    await page.locator('.log-line .lt span').first().waitFor();
    const low = (list: Awaited<ReturnType<typeof contrasts>>) => list.filter((c) => c.ratio < 4.5).map((c) => `${c.text.trim()} ${c.color} on ${c.background}: ${c.ratio.toFixed(2)}`);
    const all = await contrasts(page, '.log-line .lt span, .log-line .lt, .log-line a.ln');
    expect(all.length).to.be.greaterThan(300);
    expect(low(all)).to.deep.equal([]);
    // The same lines highlighted: the palette line as the linked line, the foreground lines as search matches.
    const palette = page.locator('.log-line', { hasText: 'p196' });
    await page.goto(`${sys!.url}${PL('team', 'failing')}/builds/${failed.id}#L${await palette.getAttribute('data-line')}`);
    await page.locator('.log-line.target .lt span').first().waitFor();
    expect(low(await contrasts(page, '.log-line.target .lt span, .log-line.target a.ln'))).to.deep.equal([]);
    await page.getByLabel('Search the whole log').fill(' fg 9');
    await page.locator('.log-line.match').waitFor();
    expect(low(await contrasts(page, '.log-line.match .lt span, .log-line.match mark'))).to.deep.equal([]);
    await shot(page, 'build-colours');
    await page.close();
  });

  it('searches the whole 100,000-line log: `/` focuses the box, the match far outside the rendered window is shown and marked', async () => {
    const page = await open(`${PL('logs', 'big-log')}/builds/${big.id}`);
    const log = page.locator('[role="log"]');
    await page.locator('.log-line').first().waitFor();
    // Only a window of rows is in the DOM, and the needle is not among them.
    expect(await page.locator('.log-line').count()).to.be.below(200);
    expect(await page.locator('.log-line', { hasText: 'NEEDLE' }).count()).to.equal(0);
    await page.locator('h1').click();
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).to.equal('Search the whole log');
    await page.keyboard.type('needle in');
    const match = page.locator('.log-line.match');
    await match.waitFor({ timeout: 30_000 });
    expect(await page.locator('.match-count').innerText()).to.equal('1 of 1');
    expect(await match.locator('.lt').innerText()).to.equal('the NEEDLE in the haystack');
    expect(await match.locator('mark').innerText()).to.equal('NEEDLE in');
    expect(Number(await match.getAttribute('data-line'))).to.be.greaterThan(87_000);
    await until('the match scrolled into view', () => inView(page, '.log-line.match'), 10_000);
    expect(await page.locator('.log-line').count()).to.be.below(200);
    // The whole log is there in the end (it loads in pages behind the search, which the server answered).
    await until('all 100,000 lines loaded', async () => Number(await log.getAttribute('data-lines')) > BIG_LINES, 60_000);
    await shot(page, 'build-search');
    // A common word: many matches, next/previous move through them.
    await page.getByLabel('Search the whole log').fill('line 09999');
    await until('ten matches', async () => (await page.locator('.match-count').innerText()) === '1 of 10', 15_000);
    const firstLine = await match.getAttribute('data-line');
    await page.getByRole('button', { name: 'Next match' }).click();
    await until('the second match', async () => (await page.locator('.match-count').innerText()) === '2 of 10', 5_000);
    await until('another line', async () => (await page.locator('.log-line.match').getAttribute('data-line')) === String(Number(firstLine) + 1), 5_000);
    await page.getByLabel('Search the whole log').press('Shift+Enter');
    await until('back to the first', async () => (await page.locator('.match-count').innerText()) === '1 of 10', 5_000);
    await page.getByLabel('Search the whole log').fill('no such words anywhere');
    await until('no matches', async () => (await page.locator('.match-count').innerText()) === 'no matches', 15_000);
    await page.close();
  });

  let liveRepo: PushedRepo;
  it("a live build lists every planned stage from the start, follows the printing stage, and never takes away the user's pick", async () => {
    liveRepo = repo('team', 'live-stages');
    liveRepo.commit({ '.estafette.yaml': LIVE_MANIFEST }, 'Four stages');
    await liveRepo.push();
    const running = await buildIn('team', 'live-stages', ['running'], 'the live build to run');
    const url = `${PL('team', 'live-stages')}/builds/${running.id}`;
    const watcher = await open(url);
    const picker = await open(url);
    const item = (p: Page, stage: string) => p.locator(`[role="treeitem"][data-stage="${stage}"]`);
    await item(picker, 'fourth').waitFor();
    const order = await picker.locator('[role="treeitem"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')));
    expect(order).to.deep.equal(['git-clone', 'first', 'second', 'third', 'fourth']);
    expect(await item(picker, 'third').getAttribute('data-status')).to.equal('pending');
    expect(await item(picker, 'fourth').getAttribute('data-status')).to.equal('pending');
    await shot(picker, 'build-live-pending');

    // The tab says it is running.
    expect(await picker.title()).to.match(/^● running — build \S+ of team\/live-stages · Estafette CI$/);
    expect(await picker.locator('link[rel="icon"]').getAttribute('data-status')).to.equal('running');
    expect(await picker.locator('link[rel="icon"]').getAttribute('href')).to.include(encodeURIComponent("fill='#bf8700'"));

    // The user picks a stage that has not started; the watcher picks nothing.
    await item(picker, 'fourth').click();
    await picker.locator('.log-head .stage-name', { hasText: 'fourth' }).waitFor();
    await until(
      'the second stage printing',
      async () => (await item(watcher, 'second').getAttribute('data-status')) === 'running' && (await watcher.locator('.log-line .lt', { hasText: /^second \d+$/ }).count()) > 3,
      60_000,
    );
    expect(await watcher.locator('.log-head .stage-name').innerText()).to.equal('second');
    expect(await item(picker, 'second').getAttribute('data-status')).to.equal('running');
    expect(await picker.locator('.log-head .stage-name').innerText()).to.equal('fourth');
    expect(await item(picker, 'fourth').getAttribute('aria-selected')).to.equal('true');
    expect(await picker.locator('.log-empty').innerText()).to.equal('Waiting for output…');
    await shot(watcher, 'build-live-following');

    await picker.getByRole('button', { name: 'Cancel build' }).click();
    await picker.locator('.run-head .status[data-status="canceled"]').first().waitFor({ timeout: 45_000 });
    await until('the tab to say canceled', async () => (await picker.title()).startsWith('⊘ canceled'), 10_000);
    expect(await picker.locator('link[rel="icon"]').getAttribute('data-status')).to.equal('canceled');
    expect(await picker.locator('.log-head .stage-name').innerText()).to.equal('fourth');
    await watcher.close();
    await picker.close();
  });

  it('shows the status of a finished build in the tab title and favicon', async () => {
    const page = await open(`${PL('team', 'failing')}/builds/${failed.id}`);
    await until('the title', async () => (await page.title()) === '✗ failed — build 0.3.1 of team/failing · Estafette CI', 10_000);
    expect(await page.locator('link[rel="icon"]').getAttribute('data-status')).to.equal('failed');
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).to.include(encodeURIComponent("fill='#cf222e'"));
    // Leaving the build restores the plain icon.
    await page.locator('.crumbs a', { hasText: 'team/failing' }).click();
    await until('the pipeline title', async () => (await page.title()) === 'team/failing · Estafette CI', 10_000);
    expect(await page.locator('link[rel="icon"]').getAttribute('data-status')).to.equal(null);
    await page.close();
  });

  it('Rebuild goes to the new build, which keeps the commit and names who asked', async () => {
    const [demo] = await buildsOf('demo', 'estafette-demo');
    const page = await open(`${PL('demo', 'estafette-demo')}/builds/${demo!.id}`);
    await page.getByRole('button', { name: 'Rebuild' }).click();
    await page.waitForURL((u) => /\/builds\/\d+$/.test(u.pathname) && !u.pathname.endsWith(`/${demo!.id}`), { timeout: 30_000 });
    const newId = new URL(page.url()).pathname.split('/').pop()!;
    await page.locator('.run-head .build-number', { hasText: '#2' }).waitFor();
    const rebuilt = await api<ApiBuild>(`/api${PL('demo', 'estafette-demo')}/builds/${newId}`);
    expect(rebuilt).to.include({ buildNumber: 2, buildVersion: demo!.buildVersion });
    expect(rebuilt.trigger).to.deep.equal({ event: 'manual', fields: { USER_ID: 'local' } });
    expect(rebuilt.commits.map((c) => c.message)).to.deep.equal(demo!.commits.map((c) => c.message));
    expect(await page.locator('.fact', { hasText: 'Trigger' }).locator('dd').innerText()).to.equal('manual by local');
    expect(await page.locator('.fact', { hasText: 'Commit' }).locator('dd').innerText()).to.include('Add the demo pipeline');
    await page.close();
  });

  it('"Re-run failed stages" runs the failed build again from its failed stage, the earlier stages reused', async () => {
    const page = await open(`${PL('team', 'failing')}/builds/${failed.id}`);
    await page.getByRole('button', { name: 'Re-run failed stages' }).click();
    await page.waitForURL((u) => /\/builds\/\d+$/.test(u.pathname) && !u.pathname.endsWith(`/${failed.id}`), { timeout: 30_000 });
    const newId = new URL(page.url()).pathname.split('/').pop()!;
    const prepare = page.locator('[role="treeitem"][data-stage="prepare"]');
    await prepare.locator('.kind.reused').waitFor();
    expect(await prepare.getAttribute('data-status')).to.equal('succeeded');
    // The failed stage ran again (and fails again: nothing changed), and the page lands on it.
    await page.locator('.failure-summary .failed-stage', { hasText: 'test' }).waitFor({ timeout: 60_000 });
    // Its lines arrive after the summary (the stage's log loads on its own): a generous bound on a shared machine.
    await page.locator('.log-line.error-line').waitFor({ timeout: 60_000 });
    const again = await api<ApiBuild>(`/api${PL('team', 'failing')}/builds/${newId}`);
    expect(again).to.include({ buildNumber: 2, buildVersion: failed.buildVersion, buildStatus: 'failed' });
    expect(again.trigger).to.deep.equal({ event: 'manual', fields: { USER_ID: 'local' } });
    expect(again.commits[0]).to.deep.include({ message: 'Make the tests strict' });
    await prepare.click();
    expect(await page.locator('.reused-note').innerText()).to.match(/not run again: its result is reused from build #1/);
    expect(await page.locator('.reused-note a').getAttribute('href')).to.equal(`${PL('team', 'failing')}/builds/${failed.id}`);
    await shot(page, 'build-rerun');
    await page.close();
  });

  it("the Builds page lists builds of every pipeline with commit, trigger and a running row's time left; filters live in the URL", async () => {
    timedRepo.commit({ '.estafette.yaml': timed(60) }, 'Takes a minute');
    await timedRepo.push();
    const running = await buildIn('team', 'timed', ['running'], 'the second timed build to run');
    const page = await open('/builds');
    const row = page.locator(`tr[data-build="${running.id}"]`);
    await row.waitFor();
    expect(await row.locator('[data-label="Pipeline"]').innerText()).to.equal('team/timed');
    expect(await row.locator('[data-label="Commit"]').innerText()).to.include('Takes a minute');
    expect(await row.locator('[data-label="Trigger"]').innerText()).to.equal('git push');
    await row.locator('[data-elapsed]').waitFor();
    expect(await row.locator('[data-left]').innerText()).to.match(/· (about \d+s left|longer than usual \(\d+s\))/);
    expect(await row.locator('[data-left]').getAttribute('title')).to.match(/^recent builds took \d+s$/);
    const names = await page.locator('tbody [data-label="Pipeline"]').allInnerTexts();
    expect(new Set(names)).to.include.members(['team/failing', 'logs/big-log', 'demo/estafette-demo', 'team/timed']);
    await shot(page, 'builds');

    await page.getByLabel('Status').selectOption('failed');
    await until(
      'only failed builds',
      async () => {
        const statuses = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
        return statuses.length > 0 && statuses.every((s) => s === 'failed');
      },
      10_000,
    );
    expect(new URL(page.url()).search).to.equal('?status=failed');
    await page.reload();
    await page.locator('tbody tr').first().waitFor();
    expect(await page.getByLabel('Status').inputValue()).to.equal('failed');
    expect(new Set(await page.locator('tbody [data-label="Pipeline"]').allInnerTexts())).to.deep.equal(new Set(['team/failing']));
    await (await sys!.api(`/api${PL('team', 'timed')}/builds/${running.id}`, { method: 'DELETE' })).status;
    await page.close();
  });

  it('the Releases page lists releases of every pipeline, filtered by target', async () => {
    const [demo] = await buildsOf('demo', 'estafette-demo');
    const r = await sys!.api(`/api${PL('demo', 'estafette-demo')}/releases`, { method: 'POST', body: JSON.stringify({ name: 'production', releaseVersion: demo!.buildVersion }) });
    // 201 with the release once build-dispatch made it (as Estafette), 202 when it took longer.
    expect(r.status).to.be.oneOf([201, 202]);
    const page = await open('/releases');
    const row = page.locator('tbody tr').first();
    await row.waitFor({ timeout: 30_000 });
    expect(await row.locator('[data-label="Pipeline"]').innerText()).to.equal('demo/estafette-demo');
    expect(await row.locator('[data-label="Target"]').innerText()).to.equal('production');
    expect(await row.locator('[data-label="By"]').innerText()).to.equal('local');
    await page.getByLabel('Target').fill('staging');
    await page.locator('.empty', { hasText: 'No release matches these filters.' }).waitFor();
    expect(new URL(page.url()).search).to.equal('?target=staging');
    await page.getByLabel('Target').fill('production');
    await page.locator('tbody tr').first().waitFor();
    await shot(page, 'releases');
    await page.close();
  });

  it("filters a pipeline's builds by branch and status, and the pipelines list names commit, author and trigger", async () => {
    failingRepo.commit({ 'feature.txt': 'x' }, 'Work on a feature', 'Grace Hopper');
    await failingRepo.push('feature');
    await until('the feature build', async () => (await buildsOf('team', 'failing')).find((b) => b.repoBranch === 'feature' && ['failed', 'succeeded'].includes(b.buildStatus)), 90_000);
    const page = await open(PL('team', 'failing'));
    await page.locator('table.builds tbody tr').nth(2).waitFor();
    await page.locator('form.filters').getByLabel('Branch').selectOption('feature');
    await until(
      'only the feature build',
      async () => {
        const branches = await page.locator('table.builds tbody [data-label="Branch"]').allInnerTexts();
        return branches.length === 1 && branches[0] === 'feature';
      },
      10_000,
    );
    expect(await page.locator('table.builds tbody [data-label="Commit"]').innerText()).to.include('Work on a feature · Grace Hopper');
    expect(new URL(page.url()).searchParams.get('branch')).to.equal('feature');
    await page.locator('form.filters').getByLabel('Status').selectOption('succeeded');
    await page.locator('.empty', { hasText: 'No build matches these filters.' }).waitFor();
    await shot(page, 'pipeline-filters');
    await page.locator('form.filters').getByRole('button', { name: 'Clear the filters' }).click();
    await until('all builds again', async () => (await page.locator('table.builds tbody tr').count()) >= 3, 10_000);

    await page.goto(`${sys!.url}/`);
    const row = page.locator('tr[data-pipeline="local/team/failing"]');
    await row.waitFor();
    expect(await row.locator('[data-label="Commit"]').innerText()).to.equal('Work on a feature · Grace Hopper');
    expect(await row.locator('[data-label="Trigger"]').innerText()).to.equal('git push');
    expect(await row.locator('[data-label="Last build"]').innerText()).to.match(/#3$/);
    await shot(page, 'pipelines-rich');
    await page.close();
  });

  it('switches to the dark theme and back, remembered, with the auth-off banner readable', async () => {
    const page = await open('/', { colorScheme: 'light' });
    await page.locator('.auth-off').waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).to.equal('light');
    await page.getByLabel('Theme').selectOption('dark');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).to.equal('dark');
    const [banner] = await contrasts(page, '.auth-off');
    expect(banner!.ratio).to.be.at.least(4.5);
    expect(banner!.background).to.not.equal('rgb(255, 248, 197)');
    await page.reload();
    await page.locator('.auth-off').waitFor();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).to.equal('dark');
    await shot(page, 'pipelines-dark');
    await page.getByLabel('Theme').selectOption('system');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).to.equal('light');
    const dark = await open('/', { colorScheme: 'dark' });
    await dark.locator('.auth-off').waitFor();
    expect(await dark.evaluate(() => document.documentElement.dataset.theme)).to.equal('dark');
    expect((await contrasts(dark, '.auth-off'))[0]!.ratio).to.be.at.least(4.5);
    await dark.close();
    await page.close();
  });

  it('states triggers in words, and draws insights durations on an axis from 0', async () => {
    const page = await open(`${PL('demo', 'estafette-demo')}/triggers`);
    const card = page.locator('.trigger-card[data-kind="cron"]');
    await card.waitFor();
    expect(await card.locator('.trigger-words').innerText()).to.equal('Builds branch main every day at 03:00 (cron 0 3 * * *).');
    expect(await card.locator('.fact', { hasText: 'Time zone' }).locator('dd').innerText()).to.equal('UTC');
    const next = await card.locator('.next-fire time').getAttribute('dateTime');
    expect(new Date(next!).getUTCHours()).to.equal(3);
    expect(Date.parse(next!)).to.be.greaterThan(Date.now());
    expect(await card.locator('.last-fired').innerText()).to.equal('not yet');
    await shot(page, 'pipeline-triggers');
    await page.goto(`${sys!.url}${PL('demo', 'estafette-demo')}/insights`);
    await page.locator('.chart canvas').waitFor({ timeout: 30_000 });
    await shot(page, 'pipeline-insights-axes');
    await page.close();
  });

  it('raised no uncaught error in any page', () => {
    expect(pageErrors).to.deep.equal([]);
  });
});
