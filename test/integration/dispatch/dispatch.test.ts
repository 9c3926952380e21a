/**
 * build-dispatch against real PostgreSQL, file:// repositories read with git, and the real
 * kubernetes JobRunner (client-node) talking to the in-test Kubernetes REST server.
 */
import { expect } from 'chai';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { makeHandler, type DispatchHandler } from '../../../functions/build-dispatch/handler.ts';
import type { DispatchDeps, DispatchEvent } from '../../../functions/build-dispatch/deps.ts';
import { localScm } from '../../../shared/scm/local.ts';
import { ForgeEndpoints } from '../../../shared/scm/endpoints.ts';
import { KubernetesJobRunner } from '../../../shared/k8s/kubernetes-runner.ts';
import { getPipeline } from '../../../shared/db/pipelines.ts';
import { getBuild, getBuildPlan, listBuilds, transitionBuildStatus } from '../../../shared/db/builds.ts';
import { readLogLines } from '../../../shared/db/logs.ts';
import { listStageRuns } from '../../../shared/db/stages.ts';
import { verifyJobToken } from '../../../shared/auth/job-token.ts';
import { decodeJwt } from 'jose';
import type { GitPushData } from '../../../shared/events/types.ts';
import { encryptSecret, generateSecretKey } from '../../../shared/secrets/secret.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import { tempRepo, type TempRepo } from '../../support/git-repo.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { recordingLogger } from '../../support/logger.ts';

const MANIFEST = `
version:
  semver:
    major: 1
    minor: 4
labels:
  team: ci
stages:
  build:
    image: golang:1.22
    commands:
    - go build ./...
releases:
  production:
    stages:
      deploy:
        image: alpine:3.20
        commands: ["echo deploy"]
`;

const SECRET_KEY = generateSecretKey();

describe('build-dispatch', function () {
  let db: TestDatabase;
  let api: FakeKubeApi;
  let handler: DispatchHandler;
  let repo: TempRepo;
  let published: Array<{ name: string; data: unknown }>;
  const logs: string[] = [];
  let n = 0;

  before(async function () {
    db = await migratedDatabase(this);
  });
  after(async () => db?.close());

  beforeEach(async () => {
    api = await new FakeKubeApi().start();
    repo = tempRepo(`app${n++}`, 'main', 'team');
    published = [];
    const deps: DispatchDeps = {
      pool: db.pool,
      scm: localScm,
      forges: new ForgeEndpoints({ hosts: {}, timeoutMs: 1000 }),
      runner: new KubernetesJobRunner(api.kubeConfig(), { namespace: 'jobs' }),
      publish: async (name, data) => void published.push({ name, data }),
      settings: {
        jwtKey: 'test-jwt-key',
        secretKey: SECRET_KEY,
        logIngestUrl: 'http://log-ingest',
        baseUrl: 'http://ci.example.com',
        executor: 'docker',
        maxChainDepth: 5,
        manifestAttempts: 3,
        statusContext: 'estafette',
      },
      log: recordingLogger(logs),
    };
    handler = makeHandler(deps);
  });
  afterEach(async () => {
    await api.stop();
    repo.remove();
  });

  const push = (rev: string, branch = 'main', id = `evt-${repo.dir}-${rev}-${branch}`): DispatchEvent => ({
    name: 'git.push',
    id,
    data: {
      forge: 'generic',
      repoSource: 'local',
      repoOwner: 'team',
      repoName: repo.dir.split('/').pop()!,
      cloneUrl: `file://${repo.dir}`,
      branch,
      revision: rev,
      commits: [],
      pusher: { name: 'dev' },
      deliveryId: id,
    } satisfies GitPushData,
  });
  const ref = () => ({ repoSource: 'local', repoOwner: 'team', repoName: repo.dir.split('/').pop()! });

  /** The builder config build-dispatch put in the Job's Secret, as text and parsed. */
  const lastConfig = (): { text: string; config: any } => {
    const text = api.requests.filter((r) => r.resource === 'secrets').pop()!.body.stringData['builder-config.json'] as string;
    return { text, config: JSON.parse(text) };
  };
  const secretManifest = (env: Record<string, string>) =>
    `stages:\n  build:\n    image: golang:1.22\n    env:\n${Object.entries(env)
      .map(([k, v]) => `      ${k}: ${v}\n`)
      .join('')}    commands:\n    - go build ./...\n`;

  it("signs the Job's token to expire at the Job's deadline (activeDeadlineSeconds + termination grace), not 6 h later", async () => {
    await handler(push(repo.commit({ '.estafette.yaml': MANIFEST })));
    const { exp, iat } = decodeJwt(lastConfig().config.ingest.token);
    const job = api.requests.filter((r) => r.verb === 'create' && r.resource === 'jobs').pop()!.body;
    expect(exp! - iat!)
      .to.equal(job.spec.activeDeadlineSeconds + job.spec.template.spec.terminationGracePeriodSeconds)
      .and.equal(2 * 60 * 60 + 30);
  });

  it('hands the Job the values of the secrets this pipeline may use, never the master key', async () => {
    const name = `local/team/${repo.dir.split('/').pop()}`;
    const mine = encryptSecret('mine-value', SECRET_KEY, 'local/team/.*');
    const any = encryptSecret('any-value', SECRET_KEY);
    await handler(push(repo.commit({ '.estafette.yaml': secretManifest({ MINE: mine, ANY: any }) })));
    const { text, config } = lastConfig();
    expect(config.secrets).to.deep.equal({ values: { [mine]: 'mine-value', [any]: 'any-value' } });
    expect(text).to.not.include(SECRET_KEY);
    expect(config).to.not.have.property('secretKey');
    expect(config.plan.stages.find((s: { name: string }) => s.name === 'build').env.MINE, 'the plan keeps the envelope').to.equal(mine);
    const [b] = (await listBuilds(db.pool, { pipelineId: (await getPipeline(db.pool, ref()))!.id })).items;
    expect(JSON.stringify(await getBuildPlan(db.pool, b!.id)), `the stored plan of ${name}`).to.not.include('mine-value');
  });

  it('hands over no value at all when the plan uses a secret restricted to other pipelines; the builder fails it with validate-secrets', async () => {
    const mine = encryptSecret('mine-value', SECRET_KEY, 'local/team/.*');
    const other = encryptSecret('other-value', SECRET_KEY, 'github.com/someone-else/.*');
    await handler(push(repo.commit({ '.estafette.yaml': secretManifest({ MINE: mine, OTHER: other }) })));
    const { text, config } = lastConfig();
    expect(config.secrets.values).to.deep.equal({});
    expect(config.secrets.refused).to.match(/restricted to pipelines matching 'github.com\/someone-else\/\.\*'/);
    expect(text).to.not.include('mine-value').and.not.include('other-value').and.not.include(SECRET_KEY);
  });

  it('a push yields build 1 with the manifest version and one schema-valid Job; the next push build 2', async () => {
    const rev1 = repo.commit({ '.estafette.yaml': MANIFEST });
    await handler(push(rev1));
    const pipeline = (await getPipeline(db.pool, ref()))!;
    expect(pipeline.labels).to.deep.equal({ team: 'ci' });
    expect(pipeline.releaseTargets).to.deep.equal([{ name: 'production', actions: [] }]);
    let builds = (await listBuilds(db.pool, { pipelineId: pipeline.id })).items;
    expect(builds.map((b) => [b.buildNumber, b.buildVersion, b.buildStatus])).to.deep.equal([[1, '1.4.1', 'pending']]);

    const creates = api.requests.filter((r) => r.verb === 'create' && r.resource === 'jobs');
    expect(creates).to.have.length(1);
    expect(() => new Job(creates[0].body).validate()).not.to.throw();
    expect(creates[0].body.metadata.labels['estafette.io/job-id']).to.equal(builds[0].id);

    const secret = api.requests.find((r) => r.resource === 'secrets')!.body;
    const config = JSON.parse(secret.stringData['builder-config.json']);
    expect(await verifyJobToken('test-jwt-key', config.ingest.token)).to.deep.equal({ kind: 'build', id: builds[0].id });
    expect(config.plan.version).to.equal('1.4.1');
    expect(config.plan.stages.map((s: { name: string }) => s.name)).to.deep.equal(['git-clone', 'build']);
    expect(config.plan.estafetteEnv.ESTAFETTE_BUILD_ID).to.equal(builds[0].id);
    expect((await getBuildPlan(db.pool, builds[0].id))?.version).to.equal('1.4.1');

    const rev2 = repo.commit({ 'main.go': 'package main' });
    await handler(push(rev2));
    builds = (await listBuilds(db.pool, { pipelineId: pipeline.id })).items;
    expect(builds.map((b) => [b.buildNumber, b.buildVersion, b.repoRevision])).to.deep.equal([
      [2, '1.4.2', rev2],
      [1, '1.4.1', rev1],
    ]);
  });

  it('the same event delivered twice (even concurrently) starts one build and one Job', async () => {
    const rev = repo.commit({ '.estafette.yaml': MANIFEST });
    const e = push(rev);
    await Promise.all([handler(e), handler(e)]);
    await handler(e);
    const pipeline = (await getPipeline(db.pool, ref()))!;
    expect((await listBuilds(db.pool, { pipelineId: pipeline.id })).items).to.have.length(1);
    expect(api.jobs()).to.have.length(1);
  });

  it('an invalid manifest records a failed build with a validate-manifest step and starts nothing', async () => {
    const rev = repo.commit({ '.estafette.yaml': 'stages:\n  build:\n    commands: ["make"]\n' });
    await handler(push(rev));
    const pipeline = (await getPipeline(db.pool, ref()))!;
    const [build] = (await listBuilds(db.pool, { pipelineId: pipeline.id })).items;
    expect(build.buildStatus).to.equal('failed');
    const lines = await readLogLines(db.pool, 'build', build.id);
    expect(lines[0].text).to.match(/invalid/);
    expect(lines.map((l) => l.text).join('\n')).to.match(/stages\.build\.image/);
    expect((await listStageRuns(db.pool, 'build', build.id)).map((s) => [s.stage, s.status])).to.deep.equal([['validate-manifest', 'failed']]);
    expect(api.jobs()).to.have.length(0);
  });

  // Before: PostgreSQL refused the NUL (22021) on every redelivery until the event was dead-lettered, and
  // invalid UTF-8 was silently altered. Now the build is created failed at once, with the reason in its log.
  const unacceptable: Array<{ name: string; bytes: Buffer; reason: RegExp }> = [
    { name: 'a NUL byte', bytes: Buffer.from('stages:\n  build:\n    image: golang\u0000:1.22\n    commands: [make]\n'), reason: /manifest is not a text file \(it contains NUL bytes\)/ },
    {
      name: 'invalid UTF-8',
      bytes: Buffer.concat([Buffer.from('stages:\n  build:\n    image: gol'), Buffer.from([0xff, 0xfe]), Buffer.from('ang\n    commands: [make]\n')]),
      reason: /the manifest is not valid UTF-8 text \(an invalid byte sequence at line 3, column 15\)/,
    },
  ];
  unacceptable.forEach((c) =>
    it(`a manifest with ${c.name} is a failed build with the reason, at the first attempt, and starts nothing`, async () => {
      const rev = repo.commit({ '.estafette.yaml': c.bytes });
      await handler(push(rev));
      const pipeline = (await getPipeline(db.pool, ref()))!;
      const builds = (await listBuilds(db.pool, { pipelineId: pipeline.id })).items;
      expect(builds.map((b) => b.buildStatus)).to.deep.equal(['failed']);
      const text = (await readLogLines(db.pool, 'build', builds[0].id)).map((l) => l.text).join('\n');
      expect(text)
        .to.match(/The manifest is invalid/)
        .and.match(c.reason);
      expect((await listStageRuns(db.pool, 'build', builds[0].id)).map((s) => [s.stage, s.status])).to.deep.equal([['validate-manifest', 'failed']]);
      expect(api.jobs()).to.have.length(0);
    }),
  );

  it('a repository without a manifest builds nothing', async () => {
    const rev = repo.commit({ 'README.md': 'no manifest' });
    await handler(push(rev));
    expect(await getPipeline(db.pool, ref())).to.equal(null);
    expect(api.requests).to.have.length(0);
  });

  it('an archived pipeline builds nothing', async () => {
    const rev = repo.commit({ '.estafette.yaml': MANIFEST });
    await handler(push(rev));
    await handler({ name: 'pipeline.archived', id: 'arch', data: { ...ref(), archived: true } });
    await handler(push(repo.commit({ x: '1' })));
    const pipeline = (await getPipeline(db.pool, ref()))!;
    expect(pipeline.archived).to.equal(true);
    expect((await listBuilds(db.pool, { pipelineId: pipeline.id })).items).to.have.length(1);
  });

  it('a non-release branch gets a labelled version; a rebuild request reuses the revision', async () => {
    const rev = repo.commit({ '.estafette.yaml': MANIFEST });
    await handler(push(rev, 'feature/Login_Page'));
    const pipeline = (await getPipeline(db.pool, ref()))!;
    const [b] = (await listBuilds(db.pool, { pipelineId: pipeline.id })).items;
    expect(b.buildVersion).to.equal('1.4.1-feature-login-page');
    await handler({ name: 'build.requested', id: 'rebuild-1', data: { ...ref(), branch: 'feature/Login_Page', trigger: { event: 'manual', fields: {} }, chainDepth: 0 } });
    const builds = (await listBuilds(db.pool, { pipelineId: pipeline.id })).items;
    expect(builds[0]).to.include({ buildNumber: 2, repoRevision: rev, buildVersion: '1.4.2-feature-login-page' });
  });

  it('cancel of a pending build marks it canceled and deletes its Job', async () => {
    const rev = repo.commit({ '.estafette.yaml': MANIFEST });
    await handler(push(rev));
    const pipeline = (await getPipeline(db.pool, ref()))!;
    const [b] = (await listBuilds(db.pool, { pipelineId: pipeline.id })).items;
    await handler({ name: 'build.cancel', id: 'c1', data: { id: b.id } });
    expect((await getBuild(db.pool, b.id))?.buildStatus).to.equal('canceled');
    expect(api.jobs()).to.have.length(0);
  });

  it('cancel of a running build whose job is gone ends canceled (via canceling)', async () => {
    const rev = repo.commit({ '.estafette.yaml': MANIFEST });
    await handler(push(rev));
    const pipeline = (await getPipeline(db.pool, ref()))!;
    const [b] = (await listBuilds(db.pool, { pipelineId: pipeline.id })).items;
    await transitionBuildStatus(db.pool, b.id, 'running');
    await handler({ name: 'build.cancel', id: 'c2', data: { id: b.id } });
    expect((await getBuild(db.pool, b.id))?.buildStatus).to.equal('canceled');
  });

  it('a release of a succeeded version starts a release Job with the release stages', async () => {
    const rev = repo.commit({ '.estafette.yaml': MANIFEST });
    await handler(push(rev));
    const pipeline = (await getPipeline(db.pool, ref()))!;
    const [b] = (await listBuilds(db.pool, { pipelineId: pipeline.id })).items;
    await transitionBuildStatus(db.pool, b.id, 'running');
    await transitionBuildStatus(db.pool, b.id, 'succeeded');
    await handler({ name: 'release.requested', id: 'r1', data: { ...ref(), name: 'production', version: '1.4.1', trigger: { event: 'manual', fields: {} }, requestedBy: 'me', chainDepth: 0 } });
    const job = api.jobs().find((j) => j.metadata.name.startsWith('release-'))!;
    expect(job).to.not.equal(undefined);
    const secret = api.requests.filter((r) => r.resource === 'secrets').pop()!.body;
    const cfg = JSON.parse(secret.stringData['builder-config.json']);
    expect(cfg.plan.kind).to.equal('release');
    expect(cfg.plan.stages.map((s: { name: string }) => s.name)).to.deep.equal(['deploy']);
    expect(cfg.plan.estafetteEnv.ESTAFETTE_RELEASE_NAME).to.equal('production');
    expect(cfg.git.clone).to.equal(false);
  });

  it('a release of a version without a succeeded build is recorded as failed with the reason', async () => {
    const rev = repo.commit({ '.estafette.yaml': MANIFEST });
    await handler(push(rev));
    await handler({ name: 'release.requested', id: 'r2', data: { ...ref(), name: 'production', version: '1.4.1', trigger: { event: 'manual', fields: {} }, chainDepth: 0 } });
    expect(api.jobs().filter((j) => j.metadata.name.startsWith('release-'))).to.have.length(0);
    expect(logs.join('\n')).to.match(/no succeeded build/);
  });
});
