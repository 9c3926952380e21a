/**
 * shared/git/ref-name.ts against git itself: every name of the table is also given to
 * `git check-ref-format --allow-onelevel` (the rules it implements) and `git check-ref-format
 * --branch` for a leading dash, so the validator never accepts what git would refuse.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { isCommitId, isRefName, isRevision } from '../../../shared/git/ref-name.ts';

const valid = ['main', 'feature/login', 'release-1.2', 'v1.0.0', 'refs/heads/main', 'pull/7/head', 'HEAD', 'a+b', 'ümlaut', 'x@y', 'a.b', 'dependabot/npm_and_yarn/ws-8.17.1'];
const invalid = [
  '',
  '-x',
  '--upload-pack=touch /tmp/pwned',
  '-c',
  'a..b',
  'a b',
  'a\tb',
  'a\nb',
  'a\u0000b',
  'a\u007fb',
  'a~1',
  'a^',
  'a:b',
  'a?',
  'a*',
  'a[b',
  'a\\b',
  'x@{1}',
  '@',
  'a.lock',
  'a/b.lock',
  'a.lock/b',
  '.hidden',
  'a/.b',
  'a/',
  '/a',
  'a//b',
  'a.',
  'a'.repeat(256),
];

describe('git ref names', () => {
  valid.forEach((name) =>
    it(`accepts ${JSON.stringify(name)} (as git does)`, () => {
      expect(isRefName(name)).to.equal(true);
      expect(spawnSync('git', ['check-ref-format', '--allow-onelevel', name]).status).to.equal(0);
    }),
  );
  invalid.forEach((name) =>
    it(`refuses ${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…` : name)}`, () => {
      expect(isRefName(name)).to.equal(false);
      // git cannot be given a NUL in argv; every other name is one git refuses as a branch too.
      const args = name.startsWith('-') ? ['--branch', name] : ['--allow-onelevel', name];
      if (!name.includes('\u0000') && name.length <= 255) expect(spawnSync('git', ['check-ref-format', ...args]).status, 'git agrees').to.not.equal(0);
    }),
  );
  it('refuses what is not a string', () => {
    for (const v of [undefined, null, 7, ['main'], { ref: 'main' }]) expect(isRefName(v)).to.equal(false);
  });

  it('commit ids are 40 or 64 hex digits; revisions are hex ids or valid refs', () => {
    expect(isCommitId('a'.repeat(40))).to.equal(true);
    expect(isCommitId('A'.repeat(64))).to.equal(true);
    for (const v of ['a'.repeat(39), 'a'.repeat(41), 'g'.repeat(40), '', '--all']) expect(isCommitId(v), v).to.equal(false);
    for (const v of ['abcdef1', 'a'.repeat(40), 'main', 'refs/tags/v1']) expect(isRevision(v), v).to.equal(true);
    for (const v of ['--output=/tmp/x', '-p', 'HEAD~1', 'main^{commit}', 'a..b', '']) expect(isRevision(v), v).to.equal(false);
  });
});
