/**
 * build-dispatch re-running a failed build's failed stages, against real PostgreSQL, a file://
 * repository and the kubernetes JobRunner on the in-test Kubernetes REST server: the new build
 * has the same version, revision and commits, a manual trigger naming who asked, the stages
 * before the first failed one marked `reusedFrom` in the plan the Job gets (git-clone is always
 * run again) and their results copied; nothing reusable means every stage runs.
 */
import { expect } from 'chai';
import { makeHandler, type DispatchHandler } from '../../../functions/build-dispatch/handler.ts';
import type { DispatchDeps } from '../../../functions/build-dispatch/deps.ts';
import { localScm } from '../../../shared/scm/local.ts';
import { ForgeEndpoints } from '../../../shared/scm/endpoints.ts';
import { KubernetesJobRunner } from '../../../shared/k8s/kubernetes-runner.ts';
import { getPipeline } from '../../../shared/db/pipelines.ts';
import { getBuildPlan, listBuilds, transitionBuildStatus, type Build } from '../../../shared/db/builds.ts';
import { listStageRuns, upsertStageRuns } from '../../../shared/db/stages.ts';
import type { StageReport } from '../../../shared/logs/protocol.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import { tempRepo, type TempRepo } from '../../support/git-repo.ts';
import { recordingLogger } from '../../support/logger.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';

const MANIFEST = `
version:
  semver:
    major: 2
    minor: 0
stages:
  prepare:
    image: alpine:3.20
    commands: ["echo prepare"]
  test:
    parallelStages:
      unit:
        image: alpine:3.20
        commands: ["echo unit"]
      lint:
        image: alpine:3.20
        commands: ["exit 1"]
  package:
    image: alpine:3.20
    commands: ["echo package"]
`;

describe('build-dispatch: re-run failed stages', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let api: FakeKubeApi;
  let handler: DispatchHandler;
  let repo: TempRepo;
  let n = 0;
  const logs: string[] = [];

  before(async function () {
    db = await migratedDatabase(this);
  });
  after(async () => db?.close());
  beforeEach(async () => {
    api = await new FakeKubeApi().start();
    repo = tempRepo(`rerun${n++}`, 'main', 'team');
    const deps: DispatchDeps = {
      pool: db.pool,
      scm: localScm,
      forges: new ForgeEndpoints({ hosts: {}, timeoutMs: 1000 }),
      runner: new KubernetesJobRunner(api.kubeConfig(), { namespace: 'jobs' }),
      publish: async () => undefined,
      settings: { jwtKey: 'test-jwt-key', logIngestUrl: 'http://log-ingest', baseUrl: 'http://ci.example.com', executor: 'docker', maxChainDepth: 5, manifestAttempts: 3, statusContext: 'estafette' },
      log: recordingLogger(logs),
    };
    handler = makeHandler(deps);
  });
  afterEach(async () => {
    await api.stop();
    repo.remove();
  });

  const ref = () => ({ repoSource: 'local', repoOwner: 'team', repoName: repo.dir.split('/').pop()! });
  const commits = [{ id: 'c'.repeat(40), message: 'Make lint strict', author: { name: 'Ada', email: 'ada@example.com' } }];

  /** A pushed build that ran and failed with these stage results. */
  async function failedBuild(stages: StageReport[]): Promise<Build> {
    const rev = repo.commit({ '.estafette.yaml': MANIFEST }, `manifest of ${repo.dir}`);
    await handler({
      name: 'git.push',
      id: `push-${rev}`,
      data: { forge: 'generic', ...ref(), cloneUrl: `file://${repo.dir}`, branch: 'main', revision: rev, commits, pusher: { name: 'Ada' }, deliveryId: `d-${rev}` },
    });
    const pipeline = (await getPipeline(db.pool, ref()))!;
    const [b] = (await listBuilds(db.pool, { pipelineId: pipeline.id })).items;
    if (!b) throw new Error(logs.join('\n'));
    await transitionBuildStatus(db.pool, b!.id, 'running');
    await upsertStageRuns(db.pool, 'build', b!.id, stages);
    return transitionBuildStatus(db.pool, b!.id, 'failed');
  }
  const rerun = (b: Build, id: string) =>
    handler({
      name: 'build.requested',
      id,
      data: {
        ...ref(),
        branch: b.repoBranch,
        revision: b.repoRevision,
        version: b.buildVersion,
        commits: b.commits,
        trigger: { event: 'manual', fields: { USER_ID: 'ada@example.com' } },
        requestedBy: 'ada@example.com',
        chainDepth: 0,
        rerunFailedOf: b.id,
      },
    });
  const jobPlan = () => JSON.parse(api.requests.filter((r) => r.resource === 'secrets').pop()!.body.stringData['builder-config.json']).plan;

  it('reuses the stages before the first failed one and runs the rest, keeping version, revision, commits and who asked', async () => {
    const t = (s: number) => `2026-01-01T00:00:0${s}.000Z`;
    const failed = await failedBuild([
      { stage: 'git-clone', run: 1, kind: 'builtin', status: 'succeeded', startedAt: t(0), finishedAt: t(1), durationMs: 1000 },
      { stage: 'prepare', run: 1, kind: 'stage', status: 'failed', startedAt: t(1), finishedAt: t(2), durationMs: 900 },
      { stage: 'prepare', run: 2, kind: 'stage', status: 'succeeded', startedAt: t(2), finishedAt: t(3), durationMs: 800 },
      { stage: 'test', run: 1, kind: 'parallel', status: 'failed', startedAt: t(3), finishedAt: t(5), durationMs: 2000 },
      { stage: 'test/unit', run: 1, parent: 'test', kind: 'stage', status: 'succeeded', startedAt: t(3), finishedAt: t(4), durationMs: 1000 },
      { stage: 'test/lint', run: 1, parent: 'test', kind: 'stage', status: 'failed', startedAt: t(3), finishedAt: t(5), durationMs: 2000, message: 'exit code 1' },
      { stage: 'package', run: 1, kind: 'stage', status: 'skipped' },
    ]);
    await rerun(failed, 'rerun-1');
    const [again] = (await listBuilds(db.pool, { pipelineId: failed.pipelineId })).items;
    expect(again).to.include({ buildNumber: 2, buildVersion: failed.buildVersion, repoRevision: failed.repoRevision, buildStatus: 'pending' });
    expect(again!.commits).to.deep.equal(commits);
    expect(again!.trigger).to.deep.equal({ event: 'manual', fields: { USER_ID: 'ada@example.com' } });

    const reused = { buildId: failed.id, buildNumber: 1 };
    for (const plan of [jobPlan(), await getBuildPlan(db.pool, again!.id)]) {
      expect(plan.stages.map((s: { name: string; reusedFrom?: unknown }) => [s.name, s.reusedFrom ?? null])).to.deep.equal([
        ['git-clone', null],
        ['prepare', reused],
        ['test', null],
        ['package', null],
      ]);
    }
    expect((await listStageRuns(db.pool, 'build', again!.id)).map((s) => [s.stage, s.run, s.status, s.message, s.durationMs])).to.deep.equal([['prepare', 1, 'succeeded', 'reused from build #1', 800]]);
    // A redelivered request changes nothing.
    await rerun(failed, 'rerun-1');
    expect((await listBuilds(db.pool, { pipelineId: failed.pipelineId })).items).to.have.length(2);
  });

  it('runs every stage when the first stage after git-clone failed', async () => {
    const failed = await failedBuild([
      { stage: 'git-clone', run: 1, kind: 'builtin', status: 'succeeded' },
      { stage: 'prepare', run: 1, kind: 'stage', status: 'failed', message: 'exit code 1' },
    ]);
    await rerun(failed, 'rerun-2');
    const [again] = (await listBuilds(db.pool, { pipelineId: failed.pipelineId })).items;
    expect(again!.buildNumber).to.equal(2);
    expect(jobPlan().stages.every((s: { reusedFrom?: unknown }) => s.reusedFrom === undefined)).to.equal(true);
    expect(await listStageRuns(db.pool, 'build', again!.id)).to.deep.equal([]);
  });
});
