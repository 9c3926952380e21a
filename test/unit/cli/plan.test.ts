/**
 * `estafette plan`, run as a user runs it (a real `node bin/estafette.js` process): what it shows
 * of a build, release or bot run, that secrets never appear, that `when` is decided for both
 * statuses, its exit codes, and that its plan is the one the dispatcher compiles.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encryptSecret, generateSecretKey } from '../../../shared/secrets/secret.ts';
import { cli, cliJson, noStackTrace } from '../../support/cli.ts';
import { tempRepo, type TempRepo } from '../../support/git-repo.ts';

const key = generateSecretKey();
const secret = encryptSecret('hunter2-value', key, '.*');

const MANIFEST = `builder:
  track: beta
labels:
  app: demo
version:
  semver:
    major: 2
    minor: 1
env:
  TOKEN: ${secret}
  GLOBAL: g
triggers:
- name: nightly
  cron:
    schedule: '0 3 * * *'
stages:
  build:
    image: golang:1.22
    commands:
    - go build ./...
    - echo \${ESTAFETTE_BUILD_VERSION}
    retries: 2
    timeout: 10m
    env:
      STAGE: s
  checks:
    parallelStages:
      test:
        image: golang:1.22
        commands: [go test ./...]
      lint:
        image: golangci/golangci-lint:v1.59
        commands: [golangci-lint run]
  integration:
    image: alpine:3.19
    commands: [./it.sh]
    services:
    - name: db
      image: postgres:16
      env:
        POSTGRES_PASSWORD: ${secret}
      readinessProbe:
        exec:
          command: [pg_isready]
        timeoutSeconds: 30
  on-cron:
    image: alpine:3.19
    when: trigger == 'cron'
    commands: [echo nightly]
  notify:
    image: extensions/slack-build-status:stable
    when: status == 'succeeded' || status == 'failed'
    webhook: ${secret}
releases:
  staging:
    stages:
      deploy:
        image: extensions/gke:stable
  production:
    actions:
    - name: deploy
    - name: rollback
    triggers:
    - release:
        name: self
        target: staging
    stages:
      deploy:
        image: extensions/gke:stable
        when: action == 'deploy'
bots:
  stale:
    stages:
      run:
        image: extensions/stale:stable
`;

/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON printed by the CLI is checked field by field */
type Json = any;

describe('estafette plan (CLI)', function () {
  this.timeout(60_000);
  let repo: TempRepo;
  let sha: string;
  let tmp: string;
  let build: Json;
  before(() => {
    repo = tempRepo('demo', 'feature/Login', 'acme');
    sha = repo.commit({ '.estafette.yaml': MANIFEST });
    tmp = mkdtempSync(join(tmpdir(), 'estafette-plan-'));
    const r = cliJson(['plan', repo.dir, '--json', '--counter', '7']);
    expect(r.code, r.stderr).to.equal(0);
    build = r.json;
  });
  after(() => {
    repo?.remove();
    rmSync(tmp, { recursive: true, force: true });
  });
  const stage = (name: string) => build.plan.stages.find((s: Json) => s.name === name);

  it('takes branch and revision from the repository and renders the version with the counter', () => {
    expect(build.valid).to.equal(true);
    expect(build.plan).to.include({ kind: 'build', branch: 'feature/Login', revision: sha, counter: 7, event: 'git' });
    expect(build.plan.version).to.deep.equal({ version: '2.1.7-feature-login', major: '2', minor: '1', patch: '7', label: 'feature-login' });
    expect(build.plan.builder).to.deep.equal({ track: 'beta', os: 'linux', medium: '', type: 'docker' });
    expect(build.plan.labels).to.deep.equal({ app: 'demo' });
  });

  it('lists every stage in order with the injected clone marked', () => {
    expect(build.plan.stages.map((s: Json) => [s.name, s.injected])).to.deep.equal([
      ['git-clone', true],
      ['build', false],
      ['checks', false],
      ['integration', false],
      ['on-cron', false],
      ['notify', false],
    ]);
    expect(stage('git-clone')).to.include({ builtin: 'git-clone', image: 'extensions/git-clone:stable' });
  });

  it('shows image, shell, workDir, commands as written, retries and timeout', () => {
    expect(stage('build')).to.deep.include({
      image: 'golang:1.22',
      shell: '/bin/sh',
      workDir: '/estafette-work',
      commands: ['go build ./...', 'echo ${ESTAFETTE_BUILD_VERSION}'],
      retries: 2,
      timeoutSeconds: 600,
      parallel: false,
    });
  });

  it('shows parallel groups with their stages', () => {
    const checks = stage('checks');
    expect(checks.parallel).to.equal(true);
    expect(checks.parallelStages.map((s: Json) => [s.name, s.image])).to.deep.equal([
      ['test', 'golang:1.22'],
      ['lint', 'golangci/golangci-lint:v1.59'],
    ]);
  });

  it('shows services with their readiness', () => {
    const [db] = stage('integration').services;
    expect(db).to.deep.include({ name: 'db', image: 'postgres:16', multiStage: false, readiness: { kind: 'exec', command: ['pg_isready'], timeoutSeconds: 30 } });
  });

  it('resolves env with Estafette precedence', () => {
    const env = stage('build').env;
    expect(env).to.include({
      GLOBAL: 'g',
      STAGE: 's',
      ESTAFETTE_STAGE_NAME: 'build',
      ESTAFETTE_GIT_NAME: 'demo',
      ESTAFETTE_GIT_BRANCH: 'feature/Login',
      ESTAFETTE_BUILD_VERSION: '2.1.7-feature-login',
      ESTAFETTE_LABEL_APP: 'demo',
    });
    expect(stage('notify').env.ESTAFETTE_EXTENSION_WEBHOOK).to.equal('***');
  });

  it('shows every secret as *** and never its envelope or value', () => {
    const text = JSON.stringify(build);
    expect(text).not.to.contain('estafette.secret(');
    expect(text).not.to.contain('hunter2');
    expect(stage('build').env.TOKEN).to.equal('***');
    expect(stage('integration').services[0].env.POSTGRES_PASSWORD).to.equal('***');
    const plain = cli(['plan', repo.dir]);
    expect(plain.stdout + plain.stderr).not.to.match(/estafette\.secret\(|hunter2/);
  });

  it('decides each when for a run that succeeded so far and one that failed', () => {
    expect(stage('build').wouldRun).to.deep.equal({ succeeded: true, failed: false });
    expect(stage('notify').wouldRun).to.deep.equal({ succeeded: true, failed: true });
    expect(stage('on-cron').wouldRun).to.deep.equal({ succeeded: false, failed: false });
  });

  it('--event sets the trigger the when sees', () => {
    const { json } = cliJson(['plan', repo.dir, '--json', '--event', 'cron']);
    expect(json.plan.stages.find((s: Json) => s.name === 'on-cron').wouldRun).to.deep.equal({ succeeded: true, failed: true });
    expect(json.plan.estafetteEnv.ESTAFETTE_TRIGGER_EVENT).to.equal('cron');
  });

  it('lists release targets with their actions, bots and every trigger normalised', () => {
    expect(build.plan.releaseTargets).to.deep.equal([
      { name: 'staging', actions: [] },
      { name: 'production', actions: [{ name: 'deploy' }, { name: 'rollback' }] },
    ]);
    expect(build.plan.bots).to.deep.equal(['stale']);
    expect(build.plan.triggers).to.deep.equal([
      { scope: 'build', field: 'triggers[0]', name: 'nightly', filter: { kind: 'cron', schedule: '0 3 * * *' }, action: { kind: 'builds', branch: '' } },
      {
        scope: 'release',
        job: 'production',
        field: 'releases.production.triggers[0]',
        filter: { kind: 'release', event: 'finished', status: 'succeeded', name: 'self', target: 'staging' },
        action: { kind: 'releases', target: 'production', action: '', version: 'same' },
      },
    ]);
  });

  it('--branch, --revision and --release NAME --action A give that release plan', () => {
    const { code, json } = cliJson(['plan', join(repo.dir, '.estafette.yaml'), '--json', '--branch', 'main', '--revision', 'f'.repeat(40), '--release', 'production', '--action', 'rollback']);
    expect(code).to.equal(0);
    expect(json.plan).to.include({ kind: 'release', name: 'production', action: 'rollback', branch: 'main' });
    expect(json.plan.version.version).to.equal('2.1.1');
    expect(json.plan.stages.map((s: Json) => s.name)).to.deep.equal(['deploy']);
    expect(json.plan.stages[0].wouldRun).to.deep.equal({ succeeded: false, failed: false });
    expect(json.plan.estafetteEnv).to.include({ ESTAFETTE_RELEASE_NAME: 'production', ESTAFETTE_RELEASE_ACTION: 'rollback' });
  });

  it('--bot NAME gives the bot plan', () => {
    const { json } = cliJson(['plan', repo.dir, '--json', '--bot', 'stale']);
    expect(json.plan).to.include({ kind: 'bot', name: 'stale' });
    expect(json.plan.estafetteEnv.ESTAFETTE_BOT_NAME).to.equal('stale');
  });

  it('prints a readable text plan', () => {
    const r = cli(['plan', repo.dir, '--counter', '7']);
    expect(r.code).to.equal(0);
    for (const line of [
      'build of local/local/demo@feature/Login',
      'version 2.1.7-feature-login',
      '1. git-clone [injected]  extensions/git-clone:stable',
      '> echo ${ESTAFETTE_BUILD_VERSION}',
      '3. checks (parallel)',
      'service db  postgres:16',
      "ready when 'pg_isready' succeeds (within 30s)",
      "when: status == 'succeeded' || status == 'failed'  (runs after success: yes, after a failure: yes)",
      'release targets: staging, production (deploy, rollback)',
    ]) {
      expect(r.stdout).to.contain(line);
    }
  });

  it('exits 1 with the problems and no plan for an invalid manifest', () => {
    const file = join(tmp, 'bad.yaml');
    writeFileSync(file, 'builder:\n  track: nightly\nstages:\n  a:\n    image: a:1\n');
    const { code, json } = cliJson(['plan', file, '--json']);
    expect(code).to.equal(1);
    expect(json.valid).to.equal(false);
    expect(json.plan).to.equal(undefined);
    expect(json.errors).to.deep.equal([{ field: 'builder.track', message: 'must be one of stable, beta, dev for os linux (the default os)', line: 2, column: 3 }]);
  });

  const usage: Array<[string, string[], RegExp]> = [
    ['an unknown option', ['--yaml'], /unknown option '--yaml'/],
    ['a counter that is not a number', ['--counter', 'x'], /--counter must be a whole number/],
    ['an unknown event', ['--event', 'push'], /--event must be one of git, pipeline, release, cron, manual/],
    ['--action without --release', ['--action', 'deploy'], /--action needs --release/],
    ['a release the manifest lacks', ['--release', 'nope'], /release target 'nope' is not defined/],
    ['an action the release lacks', ['--release', 'production', '--action', 'nope'], /no action 'nope'/],
    ['a missing file', ['/nonexistent/x.yaml'], /no such file/],
  ];
  usage.forEach(([name, args, message]) =>
    it(`exits 2 with one line for ${name}`, () => {
      const r = cli(['plan', ...(args[0]!.startsWith('/') ? args : [repo.dir, ...args])]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(message);
      noStackTrace(r.stderr);
    }),
  );
});
