/**
 * `estafette run` on temporary git repositories, spawned as users run it
 * (`node bin/estafette.js run DIR`), with the manifests in test/fixtures/builder/run/.
 */
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encryptSecret, generateSecretKey } from '../../shared/secrets/secret.ts';
import { freePort } from './executor-suite.ts';
import { alive } from '../support/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/builder/run');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const dirs: string[] = [];

/** A fresh git repository on `branch` holding the fixture manifest (placeholders replaced). */
function repoWith(fixture: string, replace: Record<string, string> = {}, branch = 'main'): string {
  const dir = mkdtempSync(join(tmpdir(), 'estafette-run-'));
  dirs.push(dir);
  let text = readFileSync(join(FIXTURES, fixture), 'utf8');
  for (const [k, v] of Object.entries(replace)) text = text.split(k).join(v);
  writeFileSync(join(dir, '.estafette.yaml'), text);
  const git = (...args: string[]): void => void execFileSync('git', ['-C', dir, ...args], { stdio: 'ignore' });
  git('init', '-q', '-b', branch);
  git('add', '.');
  git('-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-q', '-m', 'manifest');
  return dir;
}

/** Runs `estafette run` with args; `onStdout` sees output as it arrives (and the child's pid). */
function estafetteRun(args: string[], env: Record<string, string> = {}, onStdout?: (all: string, pid: number) => void): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/estafette.js'), 'run', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      onStdout?.(stdout, child.pid!);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The summary table rows: stage → status. */
function summaryOf(stdout: string): Record<string, string> {
  const at = stdout.lastIndexOf('\nSTAGE ');
  expect(at, `no summary table in:\n${stdout}`).to.be.greaterThan(-1);
  const rows: Record<string, string> = {};
  for (const line of stdout
    .slice(at + 1)
    .split('\n')
    .slice(1)) {
    const m = /^(\S+(?: \(run \d+\))?)\s{2,}(\w+)(?:\s{2,}\S+)?\s*$/.exec(line);
    if (m) rows[m[1]!] = m[2]!;
  }
  return rows;
}

describe('estafette run', function () {
  this.timeout(60_000);
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('runs the stages in order on the working tree, with headers, ESTAFETTE_* and a summary', async () => {
    const dir = repoWith('order.yaml', {}, 'feature/login');
    const r = await estafetteRun([dir]);
    expect(r.code, r.stderr).to.equal(0);
    const headers = r.stdout.split('\n').filter((l) => l.startsWith('▶ '));
    expect(headers).to.deep.equal(['▶ first', '▶ second', '▶ third']);
    expect(r.stdout).to.include('  first\n  second\n');
    expect(r.stdout).to.include('version=0.0.0-feature-login branch=feature/login');
    expect(summaryOf(r.stdout)).to.deep.equal({ first: 'succeeded', second: 'succeeded', third: 'succeeded' });
    expect(r.stdout).to.match(/build succeeded\n$/);
    expect(r.stdout).to.not.include('\u001b[');
  });

  it('propagates a failure: default stages skipped, status == failed stages run, exit 1', async () => {
    const r = await estafetteRun([repoWith('failure.yaml')]);
    expect(r.code).to.equal(1);
    expect(summaryOf(r.stdout)).to.deep.equal({ fails: 'failed', 'skipped-after-failure': 'skipped', 'on-failure': 'succeeded' });
    expect(r.stdout).to.include('exit code 3');
    expect(r.stdout).to.include('cleanup with status failed');
    expect(r.stdout).to.not.include('should not run');
  });

  const branches: Array<{ args: string[]; releaseOnly: string }> = [
    { args: [], releaseOnly: 'skipped' },
    { args: ['--branch', 'release'], releaseOnly: 'succeeded' },
  ];
  branches.forEach((c) =>
    it(`evaluates when with the branch (${c.args.join(' ') || 'git branch'} → release-only ${c.releaseOnly})`, async () => {
      const r = await estafetteRun([repoWith('when.yaml'), ...c.args]);
      expect(r.code, r.stderr).to.equal(0);
      expect(summaryOf(r.stdout)).to.deep.equal({ always: 'succeeded', 'release-only': c.releaseOnly });
    }),
  );

  it('runs parallel stages overlapping', async () => {
    const r = await estafetteRun([repoWith('parallel.yaml')]);
    expect(r.code, r.stdout).to.equal(0);
    expect(r.stdout).to.include('both/left │ left saw right');
    expect(r.stdout).to.include('both/right │ right saw left');
    expect(summaryOf(r.stdout)).to.deep.equal({ 'both/left': 'succeeded', 'both/right': 'succeeded', both: 'succeeded' });
  });

  ['service.yaml', 'service-legacy.yaml'].forEach((fixture) =>
    it(`waits for a service to be ready before running its stage (${fixture})`, async () => {
      const port = await freePort();
      const r = await estafetteRun([repoWith(fixture, { __PORT__: String(port) })]);
      expect(r.code, r.stdout).to.equal(0);
      expect(r.stdout).to.include('got pong');
      expect(summaryOf(r.stdout)).to.deep.equal({ 'uses-web': 'succeeded', 'uses-web/web': 'succeeded' });
    }),
  );

  it('a stage with only services starts them and succeeds, and the next stage reaches them (services-only.yaml, as in Estafette)', async () => {
    const port = await freePort();
    const r = await estafetteRun([repoWith('services-only.yaml', { __PORT__: String(port) })]);
    expect(r.code, r.stdout).to.equal(0);
    expect(r.stdout).to.include('got pong');
    expect(summaryOf(r.stdout)).to.deep.equal({ services: 'succeeded', 'uses-web': 'succeeded', 'services/web': 'succeeded' });
  });

  it('retries a flaky stage (each run numbered) and fails a stage at its timeout', async () => {
    const r = await estafetteRun([repoWith('retries-timeout.yaml')]);
    expect(r.code).to.equal(1);
    expect(summaryOf(r.stdout)).to.deep.equal({ flaky: 'failed', 'flaky (run 2)': 'failed', 'flaky (run 3)': 'succeeded', slow: 'failed' });
    expect(r.stdout).to.include('▶ flaky (run 3)');
    expect(r.stdout).to.include('timed out after 1s');
  });

  it('decrypts secrets with ESTAFETTE_SECRET_KEY and masks them (plain, base64, multi-line)', async () => {
    const key = generateSecretKey();
    const plain = 'correct-horse-battery';
    const multi = 'line-one-secret\nline-two-secret';
    const dir = repoWith('secrets.yaml', { __PLAIN__: `'${encryptSecret(plain, key)}'`, __MULTI__: `'${encryptSecret(multi, key)}'` });
    const r = await estafetteRun([dir], { ESTAFETTE_SECRET_KEY: key });
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    for (const leak of [plain, Buffer.from(plain).toString('base64'), 'line-one-secret', 'line-two-secret']) expect(r.stdout).to.not.include(leak);
    expect(r.stdout).to.include('plain=***');
  });

  it('SIGTERM mid-stage cancels the build and leaves no process behind', async () => {
    const dir = repoWith('cancel.yaml');
    let sent = false;
    const r = await estafetteRun([dir], {}, (out, pid) => {
      if (!sent && out.includes('\n  ready\n')) {
        sent = true;
        process.kill(pid, 'SIGTERM');
      }
    });
    expect(r.code).to.equal(1);
    expect(summaryOf(r.stdout)).to.deep.equal({ long: 'canceled', later: 'canceled' });
    for (const f of ['sh.pid', 'bg.pid']) {
      const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
      expect(alive(pid), `${f} ${pid} survived`).to.equal(false);
    }
  });

  it('--stage runs only the named stage', async () => {
    const r = await estafetteRun([repoWith('order.yaml'), '--stage', 'second']);
    expect(r.code, r.stderr).to.equal(0);
    expect(summaryOf(r.stdout)).to.deep.equal({ second: 'succeeded' });
  });

  const usage: Array<{ name: string; args: (dir: string) => string[]; stderr: RegExp }> = [
    { name: 'an invalid manifest', args: (d) => [d], stderr: /unknownKey[\s\S]*is not a valid manifest/ },
    { name: 'an unknown stage', args: (d) => [d, '--stage', 'nope'], stderr: /no stage 'nope'/ },
    { name: 'an unknown executor', args: (d) => [d, '--executor', 'podman'], stderr: /--executor must be host or docker/ },
    { name: 'an unknown option', args: (d) => [d, '--frobnicate'], stderr: /unknown option '--frobnicate'/ },
    { name: 'a directory without manifest', args: () => [tmpdir()], stderr: /no \.estafette\.yaml/ },
  ];
  usage.forEach((c) =>
    it(`exits 2 with one clear message on ${c.name}`, async () => {
      const dir = c.name === 'an invalid manifest' ? repoWith('invalid.yaml') : repoWith('order.yaml');
      const r = await estafetteRun(c.args(dir));
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(c.stderr);
      expect(r.stderr).to.not.match(/\n\s+at /);
    }),
  );
});
