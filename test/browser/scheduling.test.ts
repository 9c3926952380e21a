/**
 * The scheduling parts of the web UI in a real browser (Debian's chromium via playwright-core)
 * against a real `estafette start` with sign-in on (sessions signed with its JWT key and set as
 * cookies, as a provider sign-in would): queued builds show their place in the queue, a build
 * canceled by a newer push says "superseded by build #N (rev)", and a release that needs
 * approval shows what it waits for — a viewer sees why they cannot decide, the requester alone
 * is refused, a second operator approves in the page, which then shows who approved, and the
 * release runs. Screenshots go to test-output/screenshots/.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { signSession } from '../../shared/auth/session.ts';
import type { Role } from '../../shared/auth/roles.ts';
import { freshDatabase, requireService, REQUIRE_SERVICES } from '../support/services.ts';
import { startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { tempRepo, type TempRepo } from '../support/git-repo.ts';
import { waitFor } from '../support/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = join(ROOT, 'test-output', 'screenshots');
const JWT_KEY = randomBytes(32).toString('base64url');

const SLOW = (extra = '') => `${extra}stages:
  work:
    image: alpine:3.20
    commands:
    - for i in $(seq 1 600); do echo "tick $i"; sleep 0.1; done
`;
const GATED = `stages:
  build:
    image: alpine:3.20
    commands: ["echo built"]
releases:
  production:
    approval:
      required: 1
      roles: [operator]
    stages:
      deploy:
        image: alpine:3.20
        commands: ["echo deployed"]
`;

const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);

/** Builds frontend/dist unless it is newer than every source file. */
function ensureUiBuilt(): void {
  const index = join(ROOT, 'frontend/dist/index.html');
  const sources = Math.max(newest(join(ROOT, 'frontend/src')), statSync(join(ROOT, 'frontend/index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs > sources) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'frontend/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}

const USERS: Record<string, Role> = { 'alice@example.com': 'operator', 'bob@example.com': 'operator', 'carol@example.com': 'viewer' };
const session = (email: string) => signSession(JWT_KEY, { kind: 'user', email, name: email.split('@')[0]!, role: USERS[email]!, provider: 'test' });

describe('web UI: queue positions, supersede reason and the approval flow (chromium)', function () {
  this.timeout(180_000);
  let sys: LocalSystem;
  let drop: (() => Promise<void>) | undefined;
  let browser: Browser | undefined;
  const repos: TempRepo[] = [];
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(180_000);
    if (!existsSync(CHROMIUM)) {
      if (REQUIRE_SERVICES) throw new Error(`REQUIRE_SERVICES=1 but ${CHROMIUM} is missing`);
      console.warn(`\n  ⚠ SKIPPED scheduling browser tests: ${CHROMIUM} is missing\n`);
      this.skip();
    }
    const db = await freshDatabase(await requireService(this, 'postgres'), 'uisched');
    drop = db.drop;
    ensureUiBuilt();
    const auth = { providers: [], clients: [], roles: { emails: USERS, defaultRole: 'viewer' }, secureCookies: false };
    sys = await startLocalSystem({ env: { DATABASE_URL: db.url, NATS_URL: undefined, ESTAFETTE_JWT_KEY: JWT_KEY, ESTAFETTE_AUTH: JSON.stringify(auth) } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async function () {
    this.timeout(60_000);
    await browser?.close().catch(() => undefined);
    await sys?.stop();
    for (const r of repos) r.remove();
    await drop?.();
  });

  const call = async (path: string, who: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(`${sys.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await session(who)}` },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const repo = (name: string, manifest: string) => {
    const r = tempRepo(`${name}-${randomBytes(2).toString('hex')}`, 'main', 'ui');
    repos.push(r);
    r.commit({ '.estafette.yaml': manifest });
    return { r, name: r.dir.split('/').pop()!, path: `/pipelines/local/ui/${r.dir.split('/').pop()}` };
  };
  const push = async (r: TempRepo, branch: string) => {
    execFileSync('git', ['-C', r.dir, 'checkout', '-q', '-B', branch]);
    const rev = r.commit({ [`${branch.replace(/\W/g, '_')}-${randomBytes(2).toString('hex')}.txt`]: 'x' });
    const res = await fetch(`${sys.url}/api/integrations/generic/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sys.token}` },
      body: JSON.stringify({ repository: `file://${r.dir}`, branch, revision: rev }),
    });
    expect(res.status).to.equal(202);
    return rev;
  };
  const builds = async (path: string) => (((await call(`/api${path}/builds`, 'carol@example.com')).body.items ?? []) as any[]).sort((a, b) => a.buildNumber - b.buildNumber);
  async function as(email: string): Promise<BrowserContext> {
    const ctx = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    await ctx.addCookies([{ name: 'estafette_session', value: await session(email), url: sys.url }]);
    return ctx;
  }
  async function open(ctx: BrowserContext, path: string): Promise<Page> {
    const page = await ctx.newPage();
    page.on('pageerror', (err) => pageErrors.push(`${path}: ${err.message}`));
    await page.goto(`${sys.url}${path}`);
    return page;
  }
  async function shot(page: Page, name: string): Promise<void> {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  it('shows queued builds with their positions, on the pipeline and on the build', async () => {
    const q = repo('queue', SLOW('concurrency:\n  builds: 1\n'));
    for (const b of ['one', 'two', 'three']) await push(q.r, b);
    const bs = await waitFor(
      'one running, two queued',
      async () => {
        const all = await builds(q.path);
        return all.length === 3 && all[0].buildStatus === 'running' && all[1].buildStatus === 'queued' && all[2].buildStatus === 'queued' && all;
      },
      60_000,
      200,
    );
    const ctx = await as('carol@example.com');
    const page = await open(ctx, q.path);
    const row = (n: number) => page.locator('table.builds tbody tr').filter({ hasText: bs[n].buildVersion });
    await row(1).locator('.queue-position').waitFor();
    expect(await row(1).locator('.queue-position').innerText()).to.equal('next in queue');
    expect(await row(2).locator('.queue-position').innerText()).to.equal('2nd in queue');
    expect(await row(0).locator('.queue-position').count()).to.equal(0);
    expect(await row(1).locator('[data-status]').first().getAttribute('data-status')).to.equal('queued');
    await shot(page, 'scheduling-queue');
    const detail = await open(ctx, `${q.path}/builds/${bs[2].id}`);
    await detail.locator('dd.queue-position').waitFor();
    expect(await detail.locator('dd.queue-position').innerText()).to.equal('2nd in queue (position 2)');
    await shot(detail, 'scheduling-queued-build');
    await ctx.close();
    // Free the slot for the other tests: the running build is canceled, so the next one runs.
    expect((await call(`/api${q.path}/builds/${bs[0].id}`, 'alice@example.com', { method: 'DELETE' })).status).to.equal(202);
    await waitFor('build 2 running', async () => (await builds(q.path))[1].buildStatus === 'running', 60_000, 200);
    for (const b of (await builds(q.path)).filter((x) => x.buildStatus === 'running' || x.buildStatus === 'queued')) await call(`/api${q.path}/builds/${b.id}`, 'alice@example.com', { method: 'DELETE' });
  });

  it('shows why a build was canceled: superseded by the newer push', async () => {
    const s = repo('supersede', SLOW());
    await push(s.r, 'feature/login');
    await waitFor('build 1 running', async () => (await builds(s.path))[0]?.buildStatus === 'running', 60_000, 200);
    const rev2 = await push(s.r, 'feature/login');
    const bs = await waitFor(
      'build 1 canceled',
      async () => {
        const all = await builds(s.path);
        return all[0]?.buildStatus === 'canceled' && all;
      },
      60_000,
      200,
    );
    const ctx = await as('carol@example.com');
    const page = await open(ctx, `${s.path}/builds/${bs[0].id}`);
    await page.locator('dd.status-reason').waitFor();
    expect(await page.locator('dd.status-reason').innerText()).to.equal(`superseded by build #2 (${rev2.slice(0, 7)})`);
    expect(await page.locator('.run-title [data-status]').first().getAttribute('data-status')).to.equal('canceled');
    await shot(page, 'scheduling-superseded');
    const list = await open(ctx, s.path);
    await list.locator('table.builds .status-reason').first().waitFor();
    expect(await list.locator('table.builds .status-reason').first().innerText()).to.equal(`superseded by build #2 (${rev2.slice(0, 7)})`);
    await ctx.close();
    await call(`/api${s.path}/builds/${bs[1].id}`, 'alice@example.com', { method: 'DELETE' });
  });

  it('the approval flow: a viewer cannot decide, the requester alone is refused, a second operator approves and the page shows who', async () => {
    const g = repo('gated', GATED);
    await push(g.r, 'main');
    const [b] = await waitFor(
      'the build succeeded',
      async () => {
        const all = await builds(g.path);
        return all[0]?.buildStatus === 'succeeded' && all;
      },
      60_000,
      200,
    );
    expect((await call(`/api${g.path}/releases`, 'alice@example.com', { method: 'POST', body: { name: 'production', releaseVersion: b.buildVersion } })).status).to.be.oneOf([201, 202]);
    const rel = await waitFor(
      'the release awaits approval',
      async () => {
        const rs = (await call(`/api${g.path}/releases`, 'carol@example.com')).body.items as any[];
        return rs.find((x) => x.releaseStatus === 'awaiting-approval');
      },
      60_000,
      200,
    );
    const releasePath = `${g.path}/releases/${rel.id}`;

    const carol = await as('carol@example.com');
    const viewer = await open(carol, releasePath);
    await viewer.locator('.approval-panel .approval-why-not').waitFor();
    expect(await viewer.locator('.approval-summary').innerText()).to.match(/Waiting for 1 more approval/);
    expect(await viewer.locator('.approval-why-not').innerText()).to.match(/needs the operator role; you are carol@example.com \(viewer\)/);
    expect(await viewer.getByRole('button', { name: 'Approve' }).count()).to.equal(0);
    await carol.close();

    const alice = await as('alice@example.com');
    const requester = await open(alice, releasePath);
    await requester.getByRole('button', { name: 'Approve' }).click();
    await requester.locator('.approval-panel .error, .approval-panel [role=alert]').first().waitFor();
    expect(await requester.locator('.approval-panel').innerText()).to.match(/requester cannot be the only approver/);
    await alice.close();

    const bob = await as('bob@example.com');
    const approver = await open(bob, releasePath);
    await approver.locator('.approval-form input').fill('looks good');
    await approver.getByRole('button', { name: 'Approve' }).click();
    const item = approver.locator('.approvals .approval[data-approver="bob@example.com"]');
    await item.waitFor();
    expect(await item.innerText()).to.match(/✓ approved by bob \(role operator\)/);
    expect(await item.locator('.approval-comment').innerText()).to.equal('looks good');
    await approver.locator('.run-title [data-status="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await approver.locator('.approval-summary').innerText()).to.match(/Approved \(1 of 1\)/);
    await shot(approver, 'scheduling-approved-release');
    await bob.close();
    expect(pageErrors).to.deep.equal([]);
  });
});
