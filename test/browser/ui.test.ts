/**
 * The web UI in a real browser against the real local system: `estafette start --demo` is
 * spawned on a free port with its own fresh database and an in-memory bus, the UI is built when
 * frontend/dist is stale, and Debian's chromium is driven with playwright-core. Scenarios: the
 * pipelines page shows the demo pipeline; a running build's log lines arrive live (and follow
 * stops when the user scrolls up); a running build is canceled; a version is released to a
 * target and the target's current version changes; the validator shows field paths; the stage
 * tree works from the keyboard and line links survive a reload. Screenshots of every page go to
 * test-output/screenshots/.
 */
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../../cli/start/database.ts';
import { freshDatabase, requireService } from '../support/services.ts';
import { CHROMIUM, CHROMIUM_ARGS, ensureUiBuilt, loud, ROOT, shot, until } from './support.ts';

/** A manifest whose single stage writes a line every 0.2 s for a minute: long enough to watch and cancel. */
const SLOW_MANIFEST = `labels:
  app: ui-slow
version:
  semver:
    major: 0
    minor: 1
stages:
  count:
    image: alpine:3.20
    commands:
    - for i in $(seq 1 300); do echo "tick $i"; sleep 0.2; done
`;

/** A manifest with a stage that has commands but no image: the linter must name `stages.build…`. */
const BAD_MANIFEST = `labels:
  app: broken
stages:
  build:
    commands:
    - echo hi
`;

/** Resolves to the URL `estafette start` prints; rejects with its output if it exits first. */
function waitForUrl(child: ChildProcess, output: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`estafette start printed no URL within ${timeoutMs} ms:\n${output.join('')}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      const m = /running at (https?:\/\/\S+)/.exec(output.join(''));
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(m[1]!.replace(/\/$/, ''));
      }
      void chunk;
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`estafette start exited with ${code} before serving:\n${output.join('')}`));
    });
  });
}

interface ApiBuild {
  id: string;
  repoSource: string;
  repoOwner: string;
  repoName: string;
  buildVersion: string;
  buildStatus: string;
  repoBranch: string;
}
interface ApiPipeline {
  repoSource: string;
  repoOwner: string;
  repoName: string;
  lastBuild: ApiBuild | null;
}

describe('web UI in a real browser (estafette start --demo)', function () {
  this.timeout(120_000);
  let server: ChildProcess | undefined;
  const output: string[] = [];
  let base = '';
  let browser: Browser | undefined;
  let drop: (() => Promise<void>) | undefined;
  let stateDir = '';
  let token = '';
  const pageErrors: string[] = [];

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const pipelineUrl = (p: { repoSource: string; repoOwner: string; repoName: string }) => `/pipelines/${encodeURIComponent(p.repoSource)}/${encodeURIComponent(p.repoOwner)}/${encodeURIComponent(p.repoName)}`;
  const apiPipelinePath = (p: { repoSource: string; repoOwner: string; repoName: string }) => `/api${pipelineUrl(p)}`;
  const findPipeline = (name: string) =>
    until(`pipeline ${name} in the API`, async () => (await api<{ items: ApiPipeline[] }>(`/api/pipelines?filter[search]=${encodeURIComponent(name)}`)).items.find((p) => p.repoName === name));

  async function open(path: string, width = 1280): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(`${path}: ${err.message}`));
    await page.goto(`${base}${path}`);
    return page;
  }

  before(async function () {
    this.timeout(180_000);
    if (!existsSync(join(ROOT, 'cli/commands/start.ts'))) {
      console.warn('\n  ⚠ SKIPPED web UI browser tests: cli/commands/start.ts does not exist yet\n');
      this.skip();
    }
    if (!existsSync(CHROMIUM)) loud(`${CHROMIUM} is missing (apt-get install -y chromium)`, this);
    const serverUrl = await requireService(this, 'postgres');
    const db = await freshDatabase(serverUrl, 'ui');
    drop = db.drop;
    ensureUiBuilt();

    stateDir = mkdtempSync(join(tmpdir(), 'estafette-ui-'));
    token = randomBytes(16).toString('hex');
    // XDG_STATE_HOME inside the test's folder: the server's pointer file never lands in the real home.
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(await freePort()), DATABASE_URL: db.url, ESTAFETTE_STATE_DIR: stateDir, XDG_STATE_HOME: join(stateDir, 'xdg'), ESTAFETTE_WEBHOOK_TOKEN: token };
    // The in-memory bus: a shared NATS would mix this run's events with other runs'.
    delete env.NATS_URL;
    server = spawn(process.execPath, [join(ROOT, 'bin/estafette.js'), 'start', '--demo'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
    server.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    try {
      base = await waitForUrl(server, output, 90_000);
    } catch (err) {
      // While other parts of the local system are still being written, start cannot load them.
      const missing = /Cannot find module '([^']+)'/.exec(output.join(''));
      if (missing) loud(`estafette start cannot load ${missing[1]!.replace(ROOT, '')} yet`, this);
      throw err;
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async function () {
    this.timeout(60_000);
    await browser?.close().catch(() => undefined);
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGINT');
      const timer = setTimeout(() => server!.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    await drop?.().catch(() => undefined);
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && output.length) console.log(`--- estafette start output (last 40 lines) ---\n${output.join('').split('\n').slice(-40).join('\n')}`);
  });

  it('shows the demo pipeline on the pipelines page, and says auth is off', async () => {
    const page = await open('/');
    // The demo's first build is being dispatched; the page refreshes itself until the pipeline is there.
    await page.locator('a.pipeline-name', { hasText: 'estafette-demo' }).waitFor({ timeout: 45_000 });
    expect(await page.locator('.auth-off').innerText()).to.match(/auth is off: everyone is administrator/i);
    expect(await page.locator('header .role').innerText()).to.equal('administrator');
    await shot(page, 'pipelines');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'pipelines-phone');
    await page.close();
  });

  let live: Page | undefined;
  let slow: ApiBuild | undefined;

  it('shows the log lines of a running build arriving live, and stops following when scrolled up', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'ui-slow-'));
    const dir = join(repo, 'ui-slow');
    execFileSync('git', ['init', '-q', '-b', 'main', dir]);
    writeFileSync(join(dir, '.estafette.yaml'), SLOW_MANIFEST);
    execFileSync('git', ['-C', dir, '-c', 'user.name=UI Test', '-c', 'user.email=ui@test', '-c', 'commit.gpgsign=false', 'commit', '-q', '--allow-empty', '-m', 'slow build'], { stdio: 'ignore' });
    execFileSync('git', ['-C', dir, 'add', '.estafette.yaml']);
    execFileSync('git', ['-C', dir, '-c', 'user.name=UI Test', '-c', 'user.email=ui@test', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'add manifest'], { stdio: 'ignore' });
    execFileSync(process.execPath, [join(ROOT, 'bin/estafette.js'), 'trigger', dir], { env: { ...process.env, ESTAFETTE_URL: base, ESTAFETTE_WEBHOOK_TOKEN: token }, stdio: 'pipe' });

    const pipeline = await findPipeline('ui-slow');
    slow = await until('the slow build to run', async () => {
      const b = (await api<{ items: ApiBuild[] }>(`${apiPipelinePath(pipeline)}/builds`)).items[0];
      return b?.buildStatus === 'running' ? b : undefined;
    });

    // Navigate as a person would: pipelines → pipeline → the running build.
    const page = (live = await open('/'));
    await page.locator('a.pipeline-name', { hasText: 'ui-slow' }).click();
    await page.locator(`[data-branch="main"] a.version`).click();
    await page.locator('.run-head [data-status="running"]').waitFor();
    const log = page.locator('[role="log"]');
    const count = async () => Number(await log.getAttribute('data-lines'));
    await until('first log lines', async () => (await count()) > 0, 30_000, 200);
    const first = await count();
    await until('more lines to arrive while the page is open', async () => (await count()) >= first + 5, 30_000, 200);
    expect(await page.locator('.run-head .status').first().getAttribute('data-status')).to.equal('running');
    expect(await page.locator('.log-line .lt').last().innerText()).to.match(/^tick \d+$/);

    // Enough lines to scroll: following keeps the newest line in view…
    await until('a screenful of lines', async () => (await count()) > 40, 30_000, 200);
    await until('the view to follow the end', () => log.evaluate((el) => el.getAttribute('data-follow') === 'true' && el.scrollTop + el.clientHeight >= el.scrollHeight - 25));
    await shot(page, 'build-live');
    // …until the user scrolls up; then new lines no longer move the view.
    await log.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    const before = await count();
    await until('lines after scrolling up', async () => (await count()) >= before + 3, 30_000, 200);
    expect(await log.evaluate((el) => el.scrollTop)).to.equal(0);
    expect(await log.getAttribute('data-follow')).to.equal('false');
    expect(await page.getByRole('button', { name: /follow new lines/i }).isVisible()).to.equal(true);
  });

  it('cancels a running build', async () => {
    if (!live || !slow) throw new Error('needs the running build of the previous test');
    await live.getByRole('button', { name: 'Cancel build' }).click();
    await live.locator('.run-head .status[data-status="canceled"]').first().waitFor({ timeout: 45_000 });
    const b = await api<ApiBuild>(`${apiPipelinePath(slow)}/builds/${slow.id}`);
    expect(b.buildStatus).to.equal('canceled');
    await shot(live, 'build-canceled');
    await live.close();
  });

  it("releases a version to a target and shows the target's new current version", async () => {
    const demo = await findPipeline('estafette-demo');
    const built = await until(
      'the demo build to succeed',
      async () => {
        const p = await api<ApiPipeline>(apiPipelinePath(demo));
        if (p.lastBuild && ['failed', 'canceled'].includes(p.lastBuild.buildStatus)) throw new Error(`demo build ${p.lastBuild.buildStatus}`);
        return p.lastBuild?.buildStatus === 'succeeded' ? p.lastBuild : undefined;
      },
      90_000,
    );
    const page = await open(pipelineUrl(demo));
    const tile = page.locator('[data-target="production"]');
    await tile.waitFor();
    const beforeText = await tile.locator('.current-version').first().innerText();
    expect(beforeText).not.to.equal(built.buildVersion);
    await tile.getByRole('button', { name: 'Release…' }).click();
    await tile.getByLabel('Version').selectOption(built.buildVersion);
    await tile.getByRole('button', { name: 'Release to production' }).click();
    await page.waitForFunction((v) => document.querySelector('[data-target="production"] .current-version')?.textContent === v, built.buildVersion, { timeout: 45_000 });
    // The release itself runs and finishes; the tile shows it.
    await tile.locator('.status[data-status="succeeded"]').waitFor({ timeout: 60_000 });
    await shot(page, 'pipeline');
    await tile.locator('a.current-version').click();
    await page.locator('.run-head').waitFor();
    await page.locator('.log-line').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('.run-head h1').innerText()).to.include(built.buildVersion);
    await shot(page, 'release');
    await page.close();
  });

  it('shows field-path errors for a bad manifest in the validator', async () => {
    const page = await open('/tools');
    await page.getByLabel(/Paste a/).fill(BAD_MANIFEST);
    await page.getByRole('button', { name: 'Validate' }).click();
    const fields = page.locator('.problem.error .field');
    await fields.first().waitFor();
    const paths = await fields.allInnerTexts();
    expect(
      paths.some((f) => f.startsWith('stages.build')),
      `field paths: ${paths.join(', ')}`,
    ).to.equal(true);
    expect(await page.locator('.validation .status').getAttribute('data-status')).to.equal('failed');
    await shot(page, 'tools');
    await page.close();
  });

  it('navigates the stage tree by keyboard, and keeps a line link across a reload', async () => {
    const demo = await findPipeline('estafette-demo');
    const build = (await api<{ items: ApiBuild[] }>(`${apiPipelinePath(demo)}/builds?filter[status]=succeeded`)).items[0]!;
    const page = await open(`${pipelineUrl(demo)}/builds/${build.id}`);
    const item = (stage: string) => page.locator(`[role="treeitem"][data-stage="${stage}"]`);
    await item('prepare').waitFor();
    await item('prepare').focus();
    // Focus moves after a render: wait for it rather than racing it.
    const focused = (stage: string) => page.waitForFunction((s) => document.activeElement?.getAttribute('data-stage') === s, stage, { timeout: 5_000 });
    await page.keyboard.press('ArrowDown');
    await focused('test');
    expect(await item('test').getAttribute('aria-expanded')).to.equal('true');
    // The parallel children come in the order they started; take whichever is first.
    const child = (await item('test').locator('[role="treeitem"]').first().getAttribute('data-stage'))!;
    const firstLine: Record<string, string> = { 'unit-tests': 'unit test 1 passed', lint: 'lint check 1 ok' };
    // Child stages may be named by path (`test/unit-tests`).
    const short = child.split('/').pop()!;
    expect(short).to.be.oneOf(Object.keys(firstLine));
    await page.keyboard.press('ArrowRight'); // into the parallel stages
    await focused(child);
    await page.keyboard.press('Enter');
    await page.locator('.log-head .stage-name', { hasText: child }).waitFor();
    await page.locator('.log-line .lt', { hasText: firstLine[short]! }).waitFor();
    await page.keyboard.press('ArrowLeft'); // back to the parent
    await focused('test');
    await page.keyboard.press('ArrowLeft'); // and collapse it
    await page.locator('[role="treeitem"][data-stage="test"][aria-expanded="false"]').waitFor({ timeout: 5_000 });
    expect(await item(child).count()).to.equal(0);
    await shot(page, 'build');

    // A line link (numbered across the whole build: seq + 1) opens the same stage and line after a reload.
    const second = page.locator('.log-line').nth(1);
    const n = await second.getAttribute('data-line');
    expect(Number(n)).to.equal(Number(await second.getAttribute('data-seq')) + 1);
    await second.locator('a.ln').click();
    expect(new URL(page.url()).hash).to.equal(`#L${n}`);
    await page.reload();
    await page.locator(`.log-line.target[data-line="${n}"]`).waitFor();
    expect(await page.locator('.log-line.target a.ln').innerText()).to.equal(n);
    expect(await page.locator('.log-head .stage-name').innerText()).to.equal(child);

    await page.goto(`${base}${pipelineUrl(demo)}/builds/${build.id}/manifest`);
    expect(await page.locator('pre.manifest').innerText()).to.include('parallelStages');
    await shot(page, 'build-manifest');
    await page.close();
  });

  it('renders the insights pages', async () => {
    const demo = await findPipeline('estafette-demo');
    const page = await open(`${pipelineUrl(demo)}/insights`);
    await page.locator('.chart canvas').waitFor({ timeout: 30_000 });
    await page.locator('.rate').first().waitFor();
    await shot(page, 'pipeline-insights');
    await page.goto(`${base}/insights`);
    await page.locator('.insights-table tr', { hasText: 'estafette-demo' }).waitFor();
    await shot(page, 'insights');
    await page.close();
  });

  it('raised no uncaught error in any page', () => {
    expect(pageErrors).to.deep.equal([]);
  });
});
