/**
 * The builtin git-clone stage: a shallow fetch of exactly the build's revision into the work
 * dir, from a local path and a file:// URL (the same commands serve https and ssh).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createHostExecutor } from '../../builder/executors/host.ts';
import { runBuild } from '../../builder/run-build.ts';
import { configOf, planOf, stage } from '../fixtures/builder/plans.ts';
import { collectingReporter } from './collecting-reporter.ts';
import { startGitHttpServer } from '../support/git-http-server.ts';

describe('builder git-clone stage', function () {
  this.timeout(30_000);
  let origin: string;
  let first: string;
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'estafette-clone-'));
    dirs.push(d);
    return d;
  };

  before(() => {
    origin = tmp();
    const git = (...args: string[]): string => execFileSync('git', ['-C', origin, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    writeFileSync(join(origin, 'file.txt'), 'first\n');
    git('add', '.');
    git('commit', '-q', '-m', 'first');
    first = git('rev-parse', 'HEAD');
    writeFileSync(join(origin, 'file.txt'), 'second\n');
    git('commit', '-q', '-am', 'second');
  });
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const clone = stage('git-clone', [], { builtin: 'git-clone', injected: true, image: 'extensions/git-clone:stable' });
  const inspect = stage('inspect', ['cat file.txt', 'git rev-parse HEAD', 'git rev-parse --abbrev-ref HEAD', 'git rev-list --count HEAD']);

  const sources: Array<{ name: string; url: () => string }> = [
    { name: 'a local path', url: () => origin },
    { name: 'a file:// URL', url: () => pathToFileURL(origin).href },
  ];
  sources.forEach((c) =>
    it(`fetches exactly the revision, shallow, from ${c.name}`, async () => {
      const reporter = collectingReporter();
      const plan = planOf([clone, inspect], { revision: first });
      const config = configOf(plan, tmp(), { git: { cloneUrl: c.url(), branch: 'main', revision: first, clone: true } });
      const outcome = await runBuild(config, { executor: createHostExecutor(), reporter, cancel: new AbortController().signal });
      expect(outcome.status, reporter.lines.map((l) => l.text).join('\n')).to.equal('succeeded');
      expect(reporter.finals()[0]).to.include({ stage: 'git-clone', kind: 'builtin', status: 'succeeded' });
      expect(reporter.textOf('inspect').filter((l) => !l.startsWith('> '))).to.deep.equal(['first', first, 'main', '1']);
    }),
  );

  it('fails the build when the revision cannot be fetched, and skips the rest', async () => {
    const reporter = collectingReporter();
    const missing = 'f'.repeat(40);
    const config = configOf(planOf([clone, inspect]), tmp(), { git: { cloneUrl: origin, branch: 'main', revision: missing, clone: true } });
    const outcome = await runBuild(config, { executor: createHostExecutor(), reporter, cancel: new AbortController().signal });
    expect(outcome.status).to.equal('failed');
    expect(reporter.finals().map((s) => `${s.stage}:${s.status}`)).to.deep.equal(['git-clone:failed', 'inspect:skipped']);
    expect(reporter.finals()[0]!.message).to.include(`cannot fetch ${missing}`);
  });

  // The builder's config is validated (builder/config.ts), yet the clone must not rely on it:
  // runBuild is given the names as they are, and every ref follows `--` on git's command line.
  [
    { name: 'the branch (no revision)', revision: () => '' },
    { name: 'the branch fetched after the revision failed', revision: () => 'f'.repeat(40) },
  ].forEach((c) =>
    it(`never lets ${c.name} be read as a git option (--upload-pack=…)`, async () => {
      const marker = join(tmp(), 'pwned');
      const reporter = collectingReporter();
      const branch = `--upload-pack=touch ${marker};git-upload-pack`;
      const config = configOf(planOf([clone, inspect]), tmp(), { git: { cloneUrl: origin, branch, revision: c.revision(), clone: true } });
      const outcome = await runBuild(config, { executor: createHostExecutor(), reporter, cancel: new AbortController().signal });
      expect(existsSync(marker), 'the upload-pack command ran').to.equal(false);
      expect(outcome.status).to.equal('failed');
      expect(reporter.lines.map((l) => l.text)).to.satisfy((ls: string[]) => ls.some((l) => l.startsWith('> git fetch') && l.includes(`origin -- ${branch}`)));
    }),
  );

  it('never shows a token embedded in the clone URL', async () => {
    const reporter = collectingReporter();
    const config = configOf(planOf([clone]), tmp(), { git: { cloneUrl: 'https://x-access-token:ghs_tok3n_value@127.0.0.1:1/o/r.git', branch: 'main', revision: first, clone: true } });
    const outcome = await runBuild(config, { executor: createHostExecutor(), reporter, cancel: new AbortController().signal });
    expect(outcome.status).to.equal('failed');
    const shown = [...reporter.lines.map((l) => l.text), ...reporter.finals().map((s) => s.message ?? '')].join('\n');
    expect(shown).to.include('127.0.0.1:1');
    expect(shown).to.not.include('ghs_tok3n_value');
  });

  it('clones over HTTPS-style basic auth with the token from the URL, which is in no git command line and not in the work dir', async () => {
    const root = tmp();
    execFileSync('git', ['clone', '-q', '--bare', origin, join(root, 'r.git')]);
    const token = 'ghs_clone_t0ken_value';
    const server = await startGitHttpServer(root, 'x-access-token', token);
    // A `git` first on PATH that records every command line the builder runs, then runs git.
    const bin = tmp();
    const argvLog = join(bin, 'argv.log');
    writeFileSync(join(bin, 'git'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec ${execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim()} "$@"\n`);
    chmodSync(join(bin, 'git'), 0o755);
    writeFileSync(argvLog, '');
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    const work = tmp();
    const reporter = collectingReporter();
    try {
      const url = server.url.replace('http://', `http://x-access-token:${token}@`) + '/r.git';
      const config = configOf(planOf([clone, inspect], { revision: first }), work, { git: { cloneUrl: url, branch: 'main', revision: first, clone: true } });
      const outcome = await runBuild(config, { executor: createHostExecutor(), reporter, cancel: new AbortController().signal });
      expect(outcome.status, reporter.lines.map((l) => l.text).join('\n')).to.equal('succeeded');
    } finally {
      process.env.PATH = savedPath;
      await server.close();
    }
    expect(reporter.textOf('inspect').filter((l) => !l.startsWith('> '))).to.deep.equal(['first', first, 'main', '1']);
    expect(server.authorizations, 'git offered the credentials').to.include(`Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`);
    const argv = readFileSync(argvLog, 'utf8');
    expect(argv, 'the builder ran git').to.include('fetch');
    expect(argv, 'command lines').to.not.include(token);
    expect(readFileSync(join(work, '.git/config'), 'utf8'), 'the remote in the work dir').to.not.include(token);
    expect(reporter.lines.map((l) => l.text).join('\n')).to.not.include(token);
  });

  it('skips the clone when the config says the tree is already there', async () => {
    const reporter = collectingReporter();
    const work = tmp();
    writeFileSync(join(work, 'file.txt'), 'in place\n');
    const config = configOf(planOf([clone, stage('inspect', ['cat file.txt'])]), work);
    const outcome = await runBuild(config, { executor: createHostExecutor(), reporter, cancel: new AbortController().signal });
    expect(outcome.status).to.equal('succeeded');
    expect(reporter.finals()[0]).to.include({ stage: 'git-clone', status: 'skipped' });
    expect(reporter.textOf('inspect')).to.include('in place');
  });
});
