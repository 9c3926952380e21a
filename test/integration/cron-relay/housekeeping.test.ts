/**
 * Housekeeping of dead jobs on real PostgreSQL: builds and releases started by a real dispatch
 * (Jobs created through client-node in the fake Kubernetes API server), then their Jobs deleted
 * or failed as the cluster would, and a tick at a later clock time reconciling them.
 */
import { expect } from 'chai';
import { touchJobHeartbeat, transitionBuildStatus, type Build } from '../../../shared/db/builds.ts';
import { getRelease, listReleases, transitionReleaseStatus } from '../../../shared/db/releases.ts';
import { getBot, listBots, transitionBotStatus } from '../../../shared/db/bots.ts';
import { readLogLines } from '../../../shared/db/logs.ts';
import { listStageRuns, upsertStageRuns } from '../../../shared/db/stages.ts';
import { KubernetesJobRunner } from '../../../shared/k8s/kubernetes-runner.ts';
import type { JobStatus } from '../../../shared/status/status.ts';
import { makeHandler } from '../../../functions/cron-relay/handler.ts';
import { reconcileJobs } from '../../../functions/cron-relay/housekeeping.ts';
import type { CronRelayDeps } from '../../../functions/cron-relay/deps.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { DispatchHarness, JOB_NAMESPACE, type Repo } from '../triggers/harness.ts';
import { recordingLogger } from '../../support/logger.ts';
import { clockAt } from '../../support/fake-clock.ts';

const MANIFEST = `
stages:
  build:
    image: alpine:3.20
    commands: ["true"]
releases:
  production:
    stages:
      deploy:
        image: alpine:3.20
        commands: ["true"]
bots:
  tidy:
    stages:
      tidy:
        image: alpine:3.20
        commands: ["true"]
`;
const MIN = 60_000;

describe('cron-relay: housekeeping of dead jobs', function () {
  let db: TestDatabase;
  let h: DispatchHarness;
  let repo: Repo;
  let logs: string[];

  before(async function () {
    db = await migratedDatabase(this);
  });
  after(async () => db?.close());
  beforeEach(async () => {
    h = await DispatchHarness.start(db);
    repo = h.repo('hk', MANIFEST);
    logs = [];
  });
  afterEach(async () => h?.stop());

  const deps = (offsetMs: number): CronRelayDeps => ({
    pool: db.pool,
    publish: async () => {},
    runner: new KubernetesJobRunner(h.api.kubeConfig(), { namespace: JOB_NAMESPACE }),
    log: recordingLogger(logs),
    clock: clockAt(() => new Date(Date.now() + offsetMs)),
  });
  const jobKey = (id: string) => {
    const job = h.api.jobs().find((j) => j.metadata.labels?.['estafette.io/job-id'] === id);
    if (!job) throw new Error(`no Job for ${id}`);
    return `batch/jobs/${JOB_NAMESPACE}/${job.metadata.name}`;
  };
  const newBuild = async (status: JobStatus): Promise<Build> => {
    await repo.push();
    const [b] = await repo.builds();
    if (status !== 'pending') await transitionBuildStatus(db.pool, b.id, 'running');
    if (status === 'canceling') await transitionBuildStatus(db.pool, b.id, 'canceling');
    return b;
  };
  const jobLists = () => h.api.requests.filter((r) => r.resource === 'jobs' && r.verb === 'list').length;

  const cases: Array<{
    name: string;
    status: JobStatus;
    job: 'active' | 'deleted' | 'failed' | 'complete';
    laterMs: number;
    expected: JobStatus;
    reason?: RegExp;
  }> = [
    { name: 'a pending build whose Job was deleted', status: 'pending', job: 'deleted', laterMs: 3 * MIN, expected: 'failed', reason: /Job was never created or has been deleted/ },
    { name: 'a running build whose Job failed', status: 'running', job: 'failed', laterMs: 3 * MIN, expected: 'failed', reason: /Job failed/ },
    { name: 'a running build whose Job completed without a final report', status: 'running', job: 'complete', laterMs: 3 * MIN, expected: 'failed', reason: /Job ended without a final report/ },
    { name: 'a canceling build whose Job is gone', status: 'canceling', job: 'deleted', laterMs: 3 * MIN, expected: 'canceled', reason: /Job is gone/ },
    { name: 'a running build past its deadline (its Job is stopped)', status: 'running', job: 'active', laterMs: 3 * 60 * MIN, expected: 'failed', reason: /passed its deadline of 125 min/ },
    { name: 'a pending build whose Job is still active (left alone)', status: 'pending', job: 'active', laterMs: 3 * MIN, expected: 'pending' },
    { name: 'a pending build younger than the grace period (left alone)', status: 'pending', job: 'deleted', laterMs: 30_000, expected: 'pending' },
    { name: 'a running build within the grace period (left alone)', status: 'running', job: 'failed', laterMs: 0, expected: 'running' },
  ];
  cases.forEach((c) =>
    it(`${c.expected === c.status ? 'keeps' : `ends ${c.expected}`}: ${c.name}`, async () => {
      const b = await newBuild(c.status);
      const key = jobKey(b.id);
      if (c.job === 'deleted') h.api.objects.delete(key);
      if (c.job === 'failed') h.api.setJobStatus(JOB_NAMESPACE, key.split('/').pop()!, { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] });
      if (c.job === 'complete') h.api.setJobStatus(JOB_NAMESPACE, key.split('/').pop()!, { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] });
      const lists = jobLists();

      await makeHandler(deps(c.laterMs))({ type: 'ci.estafette.cron.tick', id: `t-${b.id}`, data: { time: new Date(Date.now() + c.laterMs).toISOString() } });

      const after = await h.build(b.id);
      expect(after.buildStatus).to.equal(c.expected);
      const steps = (await listStageRuns(db.pool, 'build', b.id)).map((s) => [s.stage, s.status]);
      if (c.expected === c.status) {
        expect(steps).to.deep.equal([]);
        return;
      }
      // The reconcile step, and the planned steps the builder never reported ended too.
      const never = c.expected === 'canceled' ? 'canceled' : 'skipped';
      expect(steps).to.have.deep.members([
        ['reconcile', c.expected],
        ['git-clone', never],
        ['build', never],
      ]);
      const lines = (await readLogLines(db.pool, 'build', b.id)).map((l) => l.text);
      expect(lines).to.have.length(1);
      expect(lines[0])
        .to.match(c.reason!)
        .and.match(new RegExp(`was ${c.status} but .* marked ${c.expected} by housekeeping`));
      expect(jobLists() - lists, 'one list call for all Job states').to.equal(1);
      if (c.job === 'active') expect(h.api.objects.has(key), 'the overdue Job is deleted').to.equal(false);
      expect(logs.join('\n')).to.contain(`build ${b.id} of team/${repo.name}`);
    }),
  );

  it('reconciles a release whose Job is gone', async () => {
    const [b] = await (async () => {
      await repo.push();
      return repo.builds();
    })();
    await h.finish(b.id);
    await h.handler({ name: 'release.requested', id: `rel-${b.id}`, data: { ...repo.ref, name: 'production', version: b.buildVersion, trigger: { event: 'manual', fields: {} }, chainDepth: 0 } });
    const [release] = (await listReleases(db.pool, { pipelineId: b.pipelineId })).items;
    await transitionReleaseStatus(db.pool, release.id, 'running');
    h.api.objects.delete(jobKey(release.id));
    const done = await reconcileJobs(deps(3 * MIN));
    expect(done).to.deep.include({ kind: 'release', id: release.id, from: 'running', to: 'failed', reason: 'its Job is gone without a final report from the builder' });
    expect((await getRelease(db.pool, release.id))?.releaseStatus).to.equal('failed');
    expect((await listStageRuns(db.pool, 'release', release.id)).map((s) => [s.stage, s.status])).to.have.deep.members([
      ['reconcile', 'failed'],
      ['deploy', 'skipped'],
    ]);
  });

  it('a running build whose builder stopped reporting for the heartbeat timeout (30 s) is failed with its running stages, and build.finished is published; a recent heartbeat keeps it', async () => {
    const b = await newBuild('running');
    const started = new Date(Date.now() - 5 * MIN).toISOString();
    await upsertStageRuns(db.pool, 'build', b.id, [
      { stage: 'first', run: 1, kind: 'stage', status: 'succeeded', startedAt: started, finishedAt: started, durationMs: 1 },
      { stage: 'build', run: 1, kind: 'stage', status: 'running', startedAt: started },
    ]);
    h.api.objects.delete(jobKey(b.id));
    // Its status changed long ago, but the builder reported just now (logs every few hundred ms).
    await db.pool.query(`UPDATE builds SET updated_at = now() - INTERVAL '10 minutes' WHERE id = $1`, [b.id]);
    await touchJobHeartbeat(db.pool, 'build', b.id);
    const published: Array<{ name: string; data: any }> = [];
    const withPublish = (offsetMs: number): CronRelayDeps => ({ ...deps(offsetMs), publish: async (name, data) => void published.push({ name, data }) });

    expect(await reconcileJobs(withPublish(20_000)), 'reported 20 s ago: alive').to.deep.equal([]);
    expect((await h.build(b.id)).buildStatus).to.equal('running');

    const done = await reconcileJobs(withPublish(35_000));
    expect(done.map((r) => [r.id, r.to])).to.deep.equal([[b.id, 'failed']]);
    expect((await h.build(b.id)).buildStatus).to.equal('failed');
    const stages = await listStageRuns(db.pool, 'build', b.id);
    expect(stages.map((x) => [x.stage, x.status])).to.have.deep.members([
      ['first', 'succeeded'],
      ['git-clone', 'skipped'],
      ['build', 'failed'],
      ['reconcile', 'failed'],
    ]);
    const ended = stages.find((x) => x.stage === 'build')!;
    expect(ended.finishedAt, 'the stage timer stops').to.be.a('string');
    expect(ended.durationMs, 'its duration').to.be.greaterThan(0);
    expect(published.filter((e) => e.name === 'build.finished').map((e) => [e.data.buildId, e.data.status])).to.deep.equal([[b.id, 'failed']]);
  });

  it('reconciles a bot run whose Job is gone', async () => {
    await repo.push();
    const [b] = await repo.builds();
    await h.handler({ name: 'bot.requested', id: `bot-${b.id}`, data: { ...repo.ref, name: 'tidy', branch: '', trigger: { event: 'manual', fields: {} }, chainDepth: 0 } });
    const [bot] = (await listBots(db.pool, { pipelineId: b.pipelineId })).items;
    await transitionBotStatus(db.pool, bot!.id, 'running');
    h.api.objects.delete(jobKey(bot!.id));
    const done = await reconcileJobs(deps(3 * MIN));
    expect(done).to.deep.include({ kind: 'bot', id: bot!.id, from: 'running', to: 'failed', reason: 'its Job is gone without a final report from the builder' });
    expect((await getBot(db.pool, bot!.id))?.botStatus).to.equal('failed');
    expect((await listStageRuns(db.pool, 'bot', bot!.id)).map((s) => [s.stage, s.status])).to.have.deep.members([
      ['reconcile', 'failed'],
      ['tidy', 'skipped'],
    ]);
  });

  it('two housekeepers at once end a dead job once, with one reconcile step', async () => {
    const b = await newBuild('running');
    h.api.objects.delete(jobKey(b.id));
    const results = await Promise.all([reconcileJobs(deps(3 * MIN)), reconcileJobs(deps(3 * MIN))]);
    expect(results.flat().filter((r) => r.id === b.id).length).to.be.at.least(1);
    expect((await h.build(b.id)).buildStatus).to.equal('failed');
    expect((await listStageRuns(db.pool, 'build', b.id)).map((s) => s.stage)).to.have.members(['reconcile', 'git-clone', 'build']);
    expect(await readLogLines(db.pool, 'build', b.id)).to.have.length(1);
  });

  it('a job that reported its final status is never touched, even with its Job gone', async () => {
    const b = await newBuild('running');
    await transitionBuildStatus(db.pool, b.id, 'succeeded');
    h.api.objects.delete(jobKey(b.id));
    expect((await reconcileJobs(deps(3 * MIN))).map((r) => r.id)).to.not.include(b.id);
    expect((await h.build(b.id)).buildStatus).to.equal('succeeded');
  });

  it('without a runner there is no housekeeping', async () => {
    const b = await newBuild('running');
    h.api.objects.delete(jobKey(b.id));
    const { runner: _runner, ...rest } = deps(3 * MIN);
    expect(await reconcileJobs(rest)).to.deep.equal([]);
    expect((await h.build(b.id)).buildStatus).to.equal('running');
  });
});
