/**
 * What the browser suites share: Debian's chromium driven by playwright-core (skipped loudly,
 * or failed under REQUIRE_SERVICES=1, when it is missing), the UI build (only when frontend/dist
 * is older than its sources), polling without timed assertions, screenshots under
 * test-output/screenshots/, git repositories with a manifest pushed to a running
 * `estafette start` through its generic webhook, and WCAG contrast measured in the page.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { REQUIRE_SERVICES } from '../support/services.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SHOTS = join(ROOT, 'test-output', 'screenshots');

/** Skips the suite with a loud reason (fails under REQUIRE_SERVICES=1). */
export function loud(reason: string, ctx: Mocha.Context): never {
  if (REQUIRE_SERVICES) throw new Error(`REQUIRE_SERVICES=1 but ${reason}`);
  console.warn(`\n  ⚠ SKIPPED web UI browser tests: ${reason}\n`);
  ctx.skip();
}

const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);

/** Builds frontend/dist unless it is newer than every source file. */
export function ensureUiBuilt(): void {
  const index = join(ROOT, 'frontend/dist/index.html');
  const sources = Math.max(newest(join(ROOT, 'frontend/src')), statSync(join(ROOT, 'frontend/index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs > sources) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'frontend/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}

/** Polls `fn` until it returns something truthy; throws naming `what` (and the last error) after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

/** A full-page screenshot named `name`.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** A git repository `<tmp>/<owner>/<name>` whose commits are pushed to a running system. */
export interface PushedRepo {
  dir: string;
  /** Writes files, commits as `author` with `message`, returns the revision. */
  commit(files: Record<string, string>, message: string, author?: string): string;
  /** Posts the generic webhook for the head of `branch` (checked out first); resolves with the event id. */
  push(branch?: string): Promise<string>;
  remove(): void;
}

/** A new repository for pushing to the system at `url` with webhook `token`. */
export function pushedRepo(url: string, token: string, owner: string, name: string): PushedRepo {
  const root = mkdtempSync(join(tmpdir(), 'estafette-ui-repo-'));
  const dir = join(root, owner, name);
  mkdirSync(dir, { recursive: true });
  const git = (author: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', `user.name=${author}`, '-c', 'user.email=ui@test.example', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' }).trim();
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  let lastAuthor = 'UI Test';
  return {
    dir,
    commit(files, message, author = 'UI Test') {
      for (const [p, content] of Object.entries(files)) writeFileSync(join(dir, p), content);
      git(author, 'add', '-A');
      git(author, 'commit', '-q', '--allow-empty', '-m', message);
      lastAuthor = author;
      return git(author, 'rev-parse', 'HEAD');
    },
    async push(branch = 'main') {
      const current = git(lastAuthor, 'rev-parse', '--abbrev-ref', 'HEAD');
      if (current !== branch) git(lastAuthor, 'checkout', '-q', '-B', branch);
      const revision = git(lastAuthor, 'rev-parse', 'HEAD');
      const message = git(lastAuthor, 'log', '-1', '--format=%s');
      const author = git(lastAuthor, 'log', '-1', '--format=%an');
      const res = await fetch(`${url}/api/integrations/generic/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-delivery-id': `${name}-${branch}-${revision}` },
        body: JSON.stringify({ repository: `file://${dir}`, branch, revision, message, author }),
      });
      const body = (await res.json()) as { eventId?: string; message?: string };
      if (res.status !== 202 || !body.eventId) throw new Error(`push of ${name} refused: ${res.status} ${body.message ?? ''}`);
      return body.eventId;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * For every element matching `selector` inside the page: its text colour's WCAG contrast ratio
 * against the background it is actually drawn on (the nearest ancestor with an opaque enough
 * background, semi-transparent layers blended), as the browser computed them.
 */
export async function contrasts(page: Page, selector: string): Promise<Array<{ text: string; color: string; background: string; ratio: number }>> {
  // Passed as source text: the test's TypeScript loader would add helpers the page does not have.
  // biome-ignore lint/security/noGlobalEval: the source is this module's own constant, evaluated in the test page
  return page.$$eval(selector, (els, source) => (0, eval)(source)(els), CONTRAST_IN_PAGE);
}

const CONTRAST_IN_PAGE = String.raw`(els) => {
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[,\s/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p[3] ?? 1];
  };
  const lum = ([r, g, b]) => {
    const f = (c) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const backgroundOf = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    let out = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) out = [r * a + out[0] * (1 - a), g * a + out[1] * (1 - a), b * a + out[2] * (1 - a)];
    return out;
  };
  return els.map((el) => {
    const fg = parse(getComputedStyle(el).color);
    const bg = backgroundOf(el);
    const blended = [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
    const a = lum(blended), b = lum(bg);
    return { text: (el.textContent || '').slice(0, 40), color: getComputedStyle(el).color, background: 'rgb(' + bg.map(Math.round).join(', ') + ')', ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) };
  });
}`;
