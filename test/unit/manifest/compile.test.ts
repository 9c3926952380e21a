import { expect } from 'chai';
import { compilePlan, extensionEnv, toUpperSnake, type RunInfo } from '../../../shared/manifest/compile.ts';
import { loadManifest } from '../../../shared/manifest/load.ts';
import { renderVersion } from '../../../shared/manifest/version.ts';
import type { Manifest } from '../../../shared/manifest/types.ts';
import { ValidationError } from '../../../shared/errors/http-error.ts';

function manifestOf(yaml: string): Manifest {
  const r = loadManifest(yaml);
  expect(r.errors).to.deep.equal([]);
  return r.manifest!;
}

const run = (over: Partial<RunInfo> = {}): RunInfo => ({
  kind: 'build',
  repoSource: 'github.com',
  repoOwner: 'estafette',
  repoName: 'estafette-ci-api',
  branch: 'feature/X',
  revision: 'abc123',
  version: renderVersion({ semver: { major: 1, minor: 2 } }, { branch: 'feature/X', revision: 'abc123', counter: 9 }),
  buildId: '1001',
  counters: { current: 9, max: 9, maxCurrentBranch: 4 },
  datetime: '2026-01-02T03:04:05Z',
  ciServerBaseUrl: 'https://ci.example.com',
  ...over,
});

const yaml = `
labels:
  app-group: estafette-ci
  team: ci
env:
  GLOBAL: g
  SHARED: from-global
stages:
  build:
    image: golang:1.22
    env:
      SHARED: from-stage
      ESTAFETTE_GIT_BRANCH: overridden
    commands: [go build]
    retries: 2
    timeout: 1h30m
  bake:
    image: extensions/docker:stable
    action: build
    versionTagSuffix: gocd
    no-cache: true
    repositories: [estafette, extensions]
    container: { name: x }
  group:
    parallelStages:
      a:
        image: alpine:3
      b:
        image: alpine:3
        when: status == 'failed'
  svc:
    services:
    - name: db
      image: postgres:16
      readiness: { path: /health, port: 8080 }
    - name: cache
      image: redis:7
      multiStage: false
      readinessProbe:
        exec: { command: [redis-cli, ping] }
        timeoutSeconds: 5
  test:
    image: alpine:3
    services:
    - name: web
      image: nginx:1
      readinessProbe:
        httpGet: { path: /, port: 80, scheme: https }
releaseTemplates:
  t:
    builder: { track: beta }
    clone: true
    actions: [{ name: deploy }, { name: rollback }]
    stages:
      deploy:
        image: extensions/gke:stable
releases:
  staging:
    template: t
  production:
    builder: { os: windows }
    stages:
      deploy:
        image: extensions/gke:stable
bots:
  stale:
    clone: true
    stages:
      run:
        image: extensions/stale:stable
`;

describe('compilePlan', () => {
  const m = manifestOf(yaml);
  const plan = compilePlan(m, run());
  const stage = (name: string) => plan.stages.find((s) => s.name === name)!;

  it('injects git-clone first and keeps the user order', () => {
    expect(plan.stages.map((s) => s.name)).to.deep.equal(['git-clone', 'build', 'bake', 'group', 'svc', 'test']);
    expect(plan.stages[0]).to.include({ builtin: 'git-clone', injected: true, when: "status == 'succeeded'" });
  });

  it('does not inject git-clone when the manifest has a stage of that name', () => {
    const own = compilePlan(manifestOf('stages:\n  build:\n    image: a:1\n  git-clone:\n    image: extensions/git-clone:stable\n'), run());
    expect(own.stages.map((s) => [s.name, s.injected])).to.deep.equal([
      ['build', undefined],
      ['git-clone', undefined],
    ]);
  });

  it('applies stage defaults', () => {
    expect(stage('bake')).to.include({ shell: '/bin/sh', workDir: '/estafette-work', when: "status == 'succeeded'", retries: 0, runCommandsInForeground: false });
    expect(stage('bake').commands).to.deep.equal([]);
    expect(stage('bake').timeoutSeconds).to.equal(undefined);
    expect(stage('build')).to.include({ retries: 2, timeoutSeconds: 5400 });
  });

  it('sets every ESTAFETTE_* variable of the run', () => {
    expect(plan.estafetteEnv).to.deep.include({
      ESTAFETTE_GIT_SOURCE: 'github.com',
      ESTAFETTE_GIT_OWNER: 'estafette',
      ESTAFETTE_GIT_NAME: 'estafette-ci-api',
      ESTAFETTE_GIT_FULLNAME: 'estafette/estafette-ci-api',
      ESTAFETTE_GIT_BRANCH: 'feature/X',
      ESTAFETTE_GIT_BRANCH_DNS_SAFE: 'feature-x',
      ESTAFETTE_GIT_REVISION: 'abc123',
      ESTAFETTE_BUILD_VERSION: '1.2.9-feature-x',
      ESTAFETTE_BUILD_VERSION_MAJOR: '1',
      ESTAFETTE_BUILD_VERSION_MINOR: '2',
      ESTAFETTE_BUILD_VERSION_PATCH: '9',
      ESTAFETTE_BUILD_VERSION_LABEL: 'feature-x',
      ESTAFETTE_BUILD_CURRENT_COUNTER: '9',
      ESTAFETTE_BUILD_MAX_COUNTER: '9',
      ESTAFETTE_BUILD_MAX_COUNTER_CURRENT_BRANCH: '4',
      ESTAFETTE_BUILD_DATETIME: '2026-01-02T03:04:05Z',
      ESTAFETTE_BUILD_STATUS: 'succeeded',
      ESTAFETTE_BUILD_ID: '1001',
      ESTAFETTE_CI_SERVER_BASE_URL: 'https://ci.example.com',
      ESTAFETTE_LABEL_APP_GROUP: 'estafette-ci',
      ESTAFETTE_LABEL_TEAM: 'ci',
    });
    expect(plan.version).to.equal('1.2.9-feature-x');
    expect(plan.labels).to.deep.equal({ 'app-group': 'estafette-ci', team: 'ci' });
  });

  it('resolves env with precedence ESTAFETTE_* < global < stage < extension', () => {
    const env = stage('build').env;
    expect(env.GLOBAL).to.equal('g');
    expect(env.SHARED).to.equal('from-stage');
    expect(env.ESTAFETTE_GIT_BRANCH).to.equal('overridden');
    expect(env.ESTAFETTE_STAGE_NAME).to.equal('build');
    expect(stage('bake').env.SHARED).to.equal('from-global');
    const ext = compilePlan(manifestOf('env:\n  ESTAFETTE_EXTENSION_ACTION: global\nstages:\n  s:\n    image: a:1\n    env: { ESTAFETTE_EXTENSION_ACTION: stage }\n    action: custom\n'), run());
    expect(ext.stages[1]!.env.ESTAFETTE_EXTENSION_ACTION).to.equal('custom');
  });

  it('passes custom properties to extensions as ESTAFETTE_EXTENSION_*', () => {
    const env = stage('bake').env;
    expect(env).to.include({
      ESTAFETTE_EXTENSION_ACTION: 'build',
      ESTAFETTE_EXTENSION_VERSION_TAG_SUFFIX: 'gocd',
      ESTAFETTE_EXTENSION_NO_CACHE: 'true',
      ESTAFETTE_EXTENSION_REPOSITORIES: 'estafette,extensions',
    });
    expect(env).not.to.have.property('ESTAFETTE_EXTENSION_CONTAINER');
    expect(JSON.parse(env.ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES!)).to.deep.equal(stage('bake').customProperties);
    expect(env.ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES_YAML).to.contain('container:\n  name: x');
    expect(stage('build').env).not.to.have.property('ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES');
  });

  it('compiles parallel stages with their own names and whens', () => {
    const g = stage('group');
    expect(g.image).to.equal('');
    expect(g.parallelStages.map((s) => [s.name, s.when, s.env.ESTAFETTE_STAGE_NAME])).to.deep.equal([
      ['a', "status == 'succeeded'", 'a'],
      ['b', "status == 'failed'", 'b'],
    ]);
  });

  it('normalises service readiness and multiStage', () => {
    const [db, cache] = stage('svc').services;
    expect(db).to.deep.include({ name: 'db', multiStage: true, readiness: { kind: 'http', scheme: 'http', host: 'db', port: 8080, path: '/health', timeoutSeconds: 60 } });
    expect(db!.env.ESTAFETTE_SERVICE_NAME).to.equal('db');
    expect(db!.env.GLOBAL).to.equal('g');
    expect(cache).to.deep.include({ multiStage: false, readiness: { kind: 'exec', command: ['redis-cli', 'ping'], timeoutSeconds: 5 } });
    const web = stage('test').services[0]!;
    expect(web).to.deep.include({ multiStage: false, readiness: { kind: 'http', scheme: 'https', host: 'web', port: 80, path: '/', timeoutSeconds: 60 } });
  });

  it('compiles a release from its template, with clone and builder from the template', () => {
    const p = compilePlan(m, run({ kind: 'release', name: 'staging', action: 'deploy', releaseId: '77', triggeredBy: 'me@example.com' }));
    expect(p).to.include({ kind: 'release', name: 'staging', action: 'deploy' });
    expect(p.builder).to.deep.equal({ track: 'beta', os: 'linux', medium: '', type: 'docker' });
    expect(p.stages.map((s) => s.name)).to.deep.equal(['git-clone', 'deploy']);
    expect(p.estafetteEnv).to.include({ ESTAFETTE_RELEASE_NAME: 'staging', ESTAFETTE_RELEASE_ACTION: 'deploy', ESTAFETTE_RELEASE_ID: '77', ESTAFETTE_RELEASE_TRIGGERED_BY: 'me@example.com' });
  });

  it('does not clone for a release without clone: true, and uses windows defaults', () => {
    const p = compilePlan(m, run({ kind: 'release', name: 'production' }));
    expect(p.stages.map((s) => s.name)).to.deep.equal(['deploy']);
    expect(p.builder.os).to.equal('windows');
    expect(p.stages[0]).to.include({ shell: 'powershell', workDir: 'C:/estafette-work' });
  });

  it('compiles a bot', () => {
    const p = compilePlan(m, run({ kind: 'bot', name: 'stale', botId: '5' }));
    expect(p.stages.map((s) => s.name)).to.deep.equal(['git-clone', 'run']);
    expect(p.estafetteEnv).to.include({ ESTAFETTE_BOT_NAME: 'stale', ESTAFETTE_BOT_ID: '5' });
  });

  it('refuses unknown releases, actions and bots with a ValidationError', () => {
    expect(() => compilePlan(m, run({ kind: 'release', name: 'nope' }))).to.throw(ValidationError, /release target 'nope'/);
    expect(() => compilePlan(m, run({ kind: 'release', name: 'staging', action: 'explode' }))).to.throw(ValidationError, /no action 'explode'/);
    expect(() => compilePlan(m, run({ kind: 'bot', name: 'nope' }))).to.throw(ValidationError, /bot 'nope'/);
  });

  it('sets trigger variables for the fired event and for named triggers', () => {
    const p = compilePlan(
      m,
      run({
        trigger: { event: 'pipeline', name: 'upstream', fields: { BUILD_VERSION: '2.0.1', REPO_NAME: 'lib' } },
        namedTriggers: { 'upstream-lib': { BUILD_VERSION: '2.0.1' }, nightly: { SCHEDULE: '0 1 * * *' } },
      }),
    );
    expect(p.estafetteEnv).to.include({
      ESTAFETTE_TRIGGER_EVENT: 'pipeline',
      ESTAFETTE_TRIGGER_PIPELINE_BUILD_VERSION: '2.0.1',
      ESTAFETTE_TRIGGER_PIPELINE_REPO_NAME: 'lib',
      ESTAFETTE_TRIGGER_UPSTREAM_LIB_BUILD_VERSION: '2.0.1',
      ESTAFETTE_TRIGGER_NIGHTLY_SCHEDULE: '0 1 * * *',
    });
    expect(p.stages[1]!.env.ESTAFETTE_TRIGGER_PIPELINE_BUILD_VERSION).to.equal('2.0.1');
  });

  it('keeps secrets encrypted in the plan', () => {
    const secret = 'estafette.secret(AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBB)';
    const p = compilePlan(manifestOf(`stages:\n  s:\n    image: a:1\n    env:\n      TOKEN: ${secret}\n    password: ${secret}\n`), run());
    expect(p.stages[1]!.env.TOKEN).to.equal(secret);
    expect(p.stages[1]!.env.ESTAFETTE_EXTENSION_PASSWORD).to.equal(secret);
  });

  const snake: Array<[string, string]> = [
    ['app-group', 'APP_GROUP'],
    ['versionTagSuffix', 'VERSION_TAG_SUFFIX'],
    ['no-cache', 'NO_CACHE'],
    ['dontExpand', 'DONT_EXPAND'],
    ['a.b', 'A_B'],
  ];
  snake.forEach(([i, o]) => it(`toUpperSnake(${i}) → ${o}`, () => expect(toUpperSnake(i)).to.equal(o)));

  it('gives no extension vars to a stage without custom properties', () => expect(extensionEnv({})).to.deep.equal({}));
});
