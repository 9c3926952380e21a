/**
 * query-api speaks Estafette's API contract (issue 20): the filter and sort vocabulary its web UI
 * sends, unknown query parameters refused, `/api/me` and the providers in its shape, its units and
 * field names (nanosecond durations, `labels` as `[{key, value}]`, the last build flat on the
 * pipeline, `triggerEvents`, triggers as `{cron: {schedule}}`), its stats routes, its log step
 * tree and `logs.stream` events. Field names are those of estafette-ci-contracts (build.go,
 * pipeline.go, release.go, build_log.go, user.go) and estafette-ci-api's handlers.
 */
import { expect } from 'chai';
import { createBuild, transitionBuildStatus } from '../../../shared/db/builds.ts';
import { createRelease, transitionReleaseStatus } from '../../../shared/db/releases.ts';
import { replaceTriggers } from '../../../shared/db/triggers.ts';
import type { PlanService, PlanStage } from '../../../shared/plan/types.ts';
import type { Pipeline } from '../../../shared/db/pipelines.ts';
import type { Build } from '../../../shared/db/builds.ts';
import { appendLogLines } from '../../../shared/db/logs.ts';
import { upsertStageRuns } from '../../../shared/db/stages.ts';
import { get, post, readSse, seed, startHarness, type Harness } from './harness.ts';

describe('query-api speaks Estafette’s contract (HTTP, PostgreSQL)', function () {
  this.timeout(60_000);
  let h: Harness;
  let alpha: Pipeline;
  let a: Build[];
  const api = (path: string) => `${h.apiUrl}${path}`;
  const PL = '/api/pipelines/github.com/estafette/alpha';

  before(async function () {
    h = await startHarness(this);
    ({ pipeline: alpha, builds: a } = await seed(
      h.pool,
      'alpha',
      [
        { status: 'succeeded', version: '1.0.0' },
        { status: 'failed', version: '1.0.1', branch: 'feature' },
      ],
      { labels: { team: 'a', app: 'alpha' } },
    ));
    await seed(h.pool, 'beta', [{ status: 'succeeded', version: '2.0.0' }], { labels: { team: 'b' }, releaseTargets: [{ name: 'tooling', actions: [] }] });
    // A build with a commit by carol (Estafette's recent committer), released by dave.
    const { build } = await createBuild(h.pool, {
      pipelineId: alpha.id,
      repoSource: 'github.com',
      repoOwner: 'estafette',
      repoName: 'alpha',
      branch: 'main',
      revision: 'c'.repeat(40),
      version: '1.0.2',
      labels: { team: 'a', app: 'alpha' },
      releaseTargets: [{ name: 'production', actions: [] }],
      commits: [{ id: 'c'.repeat(40), message: 'fix it', author: { name: 'Carol', email: 'carol@example.com' } }],
      trigger: { event: 'git', fields: { EVENT: 'push', REPOSITORY: 'github.com/estafette/alpha', BRANCH: 'main' } },
    });
    await transitionBuildStatus(h.pool, build.id, 'running');
    a.push(await transitionBuildStatus(h.pool, build.id, 'succeeded'));
    const rel = (
      await createRelease(h.pool, {
        pipelineId: alpha.id,
        repoSource: 'github.com',
        repoOwner: 'estafette',
        repoName: 'alpha',
        version: '1.0.2',
        buildId: build.id,
        name: 'production',
        triggeredBy: 'dave@example.com',
        trigger: { event: 'manual', fields: { USER_ID: 'dave@example.com' } },
      })
    ).release;
    await transitionReleaseStatus(h.pool, rel.id, 'running');
    await transitionReleaseStatus(h.pool, rel.id, 'succeeded');
  });
  after(async () => {
    await h?.stop();
  });

  /** A plan stage / service with defaults (only names and images matter to the log tree). */
  const planStage = (name: string, image: string, extra: Partial<PlanStage> = {}): PlanStage => ({
    name,
    image,
    shell: '/bin/sh',
    workDir: '/estafette-work',
    commands: [],
    runCommandsInForeground: false,
    when: "status == 'succeeded'",
    env: {},
    retries: 0,
    parallelStages: [],
    services: [],
    customProperties: {},
    ...extra,
  });
  const planService = (name: string, image: string): PlanService => ({ name, image, shell: '/bin/sh', commands: [], runCommandsInForeground: false, env: {}, when: '', multiStage: false, customProperties: {} });

  /** An integer count of nanoseconds (Go's time.Duration), as every Estafette duration is. */
  const nanoseconds = (v: unknown) => {
    expect(v).to.be.a('number');
    expect(Number.isInteger(v)).to.equal(true);
  };

  describe('units and field names (contracts build.go, release.go, pipeline.go)', () => {
    it('a build: labels as [{key, value}] sorted by key, durations in nanoseconds, triggerEvents', async () => {
      const b = (await get(api(`${PL}/builds/${a[2]!.id}`))).body;
      expect(b).to.include({ id: a[2]!.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'alpha', repoBranch: 'main', repoRevision: 'c'.repeat(40), buildVersion: '1.0.2', buildStatus: 'succeeded' });
      expect(b.labels).to.deep.equal([
        { key: 'app', value: 'alpha' },
        { key: 'team', value: 'a' },
      ]);
      nanoseconds(b.duration);
      nanoseconds(b.pendingDuration);
      const stored = a[2]!;
      expect(b.duration).to.equal(Math.round(stored.duration! * 1e9));
      expect(b.triggerEvents).to.deep.equal([{ fired: true, git: { event: 'push', repository: 'github.com/estafette/alpha', branch: 'main' } }]);
      expect(b.commits[0]).to.deep.include({ message: 'fix it', author: { name: 'Carol', email: 'carol@example.com' } });
      for (const k of ['insertedAt', 'startedAt', 'updatedAt']) expect(Date.parse(b[k]), k).to.be.a('number').and.not.NaN;
      // Our additions stay beside Estafette's fields.
      expect(b).to.include({ buildNumber: 3 });
      const list = (await get(api(`${PL}/builds`))).body.items;
      expect(list[0].labels).to.deep.equal(b.labels);
      // …/builds/version/:version (GetPipelineBuildByVersion) answers the same build.
      expect((await get(api(`${PL}/builds/version/1.0.2`))).body).to.deep.include({ id: b.id, labels: b.labels, duration: b.duration });
      expect((await get(api(`${PL}/builds/version/9.9.9`))).status).to.equal(404);
      list.forEach((x: { duration: unknown }) => nanoseconds(x.duration));
    });

    it('a pipeline: its last build’s fields flat on it, lastUpdatedAt, labels, and our lastBuild beside them', async () => {
      const pl = (await get(api(PL))).body;
      expect(pl).to.include({ repoSource: 'github.com', repoOwner: 'estafette', repoName: 'alpha', repoBranch: 'main', repoRevision: 'c'.repeat(40), buildVersion: '1.0.2', buildStatus: 'succeeded' });
      expect(pl.labels).to.deep.equal([
        { key: 'app', value: 'alpha' },
        { key: 'team', value: 'a' },
      ]);
      expect(pl.commits).to.have.length(1);
      expect(pl.triggerEvents).to.deep.equal([{ fired: true, git: { event: 'push', repository: 'github.com/estafette/alpha', branch: 'main' } }]);
      expect(pl.insertedAt).to.equal(a[2]!.insertedAt);
      expect(pl.startedAt).to.equal(a[2]!.startedAt);
      expect(pl.duration).to.equal(Math.round(a[2]!.duration! * 1e9));
      nanoseconds(pl.pendingDuration);
      expect(Date.parse(pl.lastUpdatedAt)).to.not.be.NaN;
      expect(pl.lastBuild).to.include({ id: a[2]!.id, buildNumber: 3, duration: pl.duration });
      const listed = (await get(api('/api/pipelines?sort=repo_name'))).body.items[0];
      expect(listed).to.include({ repoName: 'alpha', buildVersion: '1.0.2', buildStatus: 'succeeded', duration: pl.duration });
      // Active releases are releases in release shape.
      const prod = listed.releaseTargets.find((t: { name: string }) => t.name === 'production');
      expect(prod.activeReleases[0].triggerEvents).to.deep.equal([{ fired: true, manual: { userID: 'dave@example.com' } }]);
    });

    it('a release: triggerEvents, durations in nanoseconds', async () => {
      const [r] = (await get(api(`${PL}/releases`))).body.items;
      expect(r).to.include({ name: 'production', repoSource: 'github.com', repoOwner: 'estafette', repoName: 'alpha', releaseVersion: '1.0.2', releaseStatus: 'succeeded' });
      expect(r.triggerEvents).to.deep.equal([{ fired: true, manual: { userID: 'dave@example.com' } }]);
      nanoseconds(r.duration);
      nanoseconds(r.pendingDuration);
      expect((await get(api(`${PL}/releases/${r.id}`))).body).to.deep.equal(r);
    });

    it('triggers as Estafette’s {cron: {schedule}, builds: {branch}}, pipeline and release triggers likewise', async () => {
      await replaceTriggers(h.pool, alpha.id, [
        { jobKind: 'build', kind: 'cron', filter: { schedule: '0 * * * *' }, action: { builds: { branch: 'main' } } },
        {
          jobKind: 'release',
          jobName: 'production',
          kind: 'pipeline',
          name: 'after-beta',
          filter: { event: 'finished', status: 'succeeded', name: 'github.com/estafette/beta', branch: 'main' },
          action: { releases: { target: 'production' } },
        },
      ]);
      const t = (await get(api(PL))).body.triggers;
      expect(t[0]).to.deep.include({ cron: { schedule: '0 * * * *' }, builds: { branch: 'main' } });
      expect(t[1]).to.deep.include({ name: 'after-beta', pipeline: { event: 'finished', status: 'succeeded', name: 'github.com/estafette/beta', branch: 'main' }, releases: { target: 'production' } });
    });

    it('stats: buildsdurations and releasesdurations as {durations} in nanoseconds (succeeded, last 100), the counters as {count}', async () => {
      const b = (await get(api(`${PL}/stats/buildsdurations`))).body;
      expect(Object.keys(b)).to.deep.equal(['durations']);
      expect(b.durations.map((d: { buildVersion: string }) => d.buildVersion)).to.deep.equal(['1.0.2', '1.0.0']);
      for (const d of b.durations) {
        expect(d).to.include.keys('insertedAt', 'pendingDuration', 'duration');
        nanoseconds(d.duration);
        nanoseconds(d.pendingDuration);
      }
      const r = (await get(api(`${PL}/stats/releasesdurations?filter[last]=10`))).body;
      expect(r.durations).to.have.length(1);
      expect(r.durations[0]).to.include({ name: 'production', action: '' });
      nanoseconds(r.durations[0].duration);
      expect((await get(api('/api/stats/pipelinescount?filter[status]=all&filter[since]=1w'))).body).to.deep.equal({ count: 2 });
      expect((await get(api('/api/stats/buildscount?filter[status]=succeeded&filter[since]=1w'))).body).to.deep.equal({ count: 3 });
      expect((await get(api('/api/stats/releasescount?filter[status]=all&filter[since]=1w'))).body).to.deep.equal({ count: 1 });
    });
  });

  describe('POSTs return the created object (CreatePipelineBuild, CreatePipelineRelease)', () => {
    let h2: Harness;
    before(async function () {
      h2 = await startHarness(this, { createdWaitMs: 20_000 });
      await seed(h2.pool, 'alpha', [{ status: 'succeeded', version: '1.0.0' }], { releaseTargets: [{ name: 'production', actions: [] }] });
    });
    after(async () => {
      await h2?.stop();
    });

    /** Plays build-dispatch: when the event is published, makes the job it asks for. */
    const dispatchOnce = async (make: (eventId: string) => Promise<unknown>) => {
      const seen = h2.published.length;
      for (let i = 0; i < 400 && h2.published.length === seen; i++) await new Promise((r) => setTimeout(r, 25));
      const e = h2.published.at(-1)!;
      await make(e.id!);
      return e;
    };

    it('POST …/builds → 201 with the build (Estafette shape) and its eventId, once build-dispatch made it', async () => {
      const pl = (await get(`${h2.apiUrl}/api/pipelines/github.com/estafette/alpha`)).body;
      const answer = post(`${h2.apiUrl}/api/pipelines/github.com/estafette/alpha/builds`, { buildVersion: '1.0.0' });
      const e = await dispatchOnce((eventId) =>
        createBuild(h2.pool, { pipelineId: pl.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'alpha', branch: 'main', revision: '0'.repeat(40), version: '1.0.0', labels: { app: 'x' }, eventId }),
      );
      const r = await answer;
      expect(r.status).to.equal(201);
      expect(r.body).to.include({ eventId: e.id, repoName: 'alpha', buildVersion: '1.0.0', buildStatus: 'pending', duration: 0 });
      expect(r.body.labels).to.deep.equal([{ key: 'app', value: 'x' }]);
    });

    it('POST …/releases → 201 with the release and its eventId', async () => {
      const pl = (await get(`${h2.apiUrl}/api/pipelines/github.com/estafette/alpha`)).body;
      const answer = post(`${h2.apiUrl}/api/pipelines/github.com/estafette/alpha/releases`, { name: 'production', releaseVersion: '1.0.0' });
      const e = await dispatchOnce((eventId) =>
        createRelease(h2.pool, {
          pipelineId: pl.id,
          repoSource: 'github.com',
          repoOwner: 'estafette',
          repoName: 'alpha',
          version: '1.0.0',
          name: 'production',
          eventId,
          trigger: { event: 'manual', fields: { USER_ID: 'local' } },
        }),
      );
      const r = await answer;
      expect(r.status).to.equal(201);
      expect(r.body).to.include({ eventId: e.id, name: 'production', releaseVersion: '1.0.0', releaseStatus: 'pending' });
      expect(r.body.triggerEvents).to.deep.equal([{ fired: true, manual: { userID: 'local' } }]);
    });
  });

  describe('filter and sort vocabulary (what estafette-ci-web sends)', () => {
    const names = async (path: string) => {
      const r = await get(api(path));
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      // Pipelines by name (they carry their last build's version too), builds by version.
      return r.body.items.map((x: { repoName?: string; buildVersion?: string; lastBuild?: unknown }) => ('lastBuild' in x ? x.repoName : x.buildVersion));
    };

    it('filter[status]=all, filter[target]=all, filter[branch]=all and empty filters mean no filter', async () => {
      // AllPipelines.vue's query with every filter at its default.
      expect(await names('/api/pipelines?filter[status]=all&filter[since]=eternity&filter[target]=all&filter[search]=&filter[labels]=&page[number]=1&page[size]=12&sort=repo_source,repo_owner,repo_name')).to.deep.equal([
        'alpha',
        'beta',
      ]);
      expect(await names(`${PL}/builds?filter[status]=all&filter[branch]=all&page[number]=1&page[size]=12`)).to.deep.equal(['1.0.2', '1.0.1', '1.0.0']);
      expect(await names(`${PL}/releases?filter[status]=all&filter[target]=all&page[number]=1&page[size]=12`)).to.have.length(1);
      expect(await names('/api/releases?filter[status]=all&filter[target]=all&filter[since]=1w&page[number]=1&page[size]=12&sort=-updated_at')).to.have.length(1);
      expect(await names('/api/builds?filter[status]=all&filter[since]=1d&filter[labels]=&page[number]=1&page[size]=12&sort=-updated_at')).to.have.length(4);
    });

    it('filter[status] repeated (running = running, pending, canceling), filter[target], filter[labels] on builds', async () => {
      expect(await names('/api/pipelines?filter[status]=failed&filter[status]=pending&filter[status]=canceling')).to.deep.equal([]);
      expect(await names('/api/pipelines?filter[target]=tooling')).to.deep.equal(['beta']);
      expect(await names('/api/builds?filter[labels]=team%3Da&sort=repo_source,repo_owner,repo_name,-inserted_at')).to.deep.equal(['1.0.2', '1.0.1', '1.0.0']);
    });

    it('filter[recent-committer] and filter[recent-releaser] (MyPipelines.vue, AllPipelines.vue)', async () => {
      const sort = 'sort=-last_updated_at,repo_source,repo_owner,repo_name';
      expect(await names(`/api/pipelines?filter[since]=1w&filter[since]=1w&filter[recent-committer]=carol@example.com&page[number]=1&page[size]=10&${sort}`)).to.deep.equal(['alpha']);
      expect(await names(`/api/pipelines?filter[recent-committer]=nobody@example.com&${sort}`)).to.deep.equal([]);
      expect(await names(`/api/pipelines?filter[recent-releaser]=dave@example.com&${sort}`)).to.deep.equal(['alpha']);
    });

    it('sort: Estafette’s snake_case fields with - for descending, and our aliases', async () => {
      expect(await names('/api/pipelines?sort=-repo_name')).to.deep.equal(['beta', 'alpha']);
      expect(await names('/api/pipelines?sort=repo_name')).to.deep.equal(['alpha', 'beta']);
      expect(await names('/api/pipelines?sort=name')).to.deep.equal(['alpha', 'beta']);
      expect(await names(`${PL}/builds?sort=build_version`)).to.deep.equal(['1.0.0', '1.0.1', '1.0.2']);
      expect(await names(`${PL}/builds?sort=-updated_at`)).to.have.length(3);
    });

    it('filter[last] on the durations stats', async () => {
      const r = await get(api(`${PL}/stats/buildsdurations?filter[last]=1`));
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      expect(r.body.durations).to.have.length(1);
    });

    const refused: Array<[string, RegExp]> = [
      ['/api/pipelines?filter[stauts]=failed', /unknown query parameter 'filter\[stauts\]'.*takes page\[number\], page\[size\], filter\[status\]/],
      ['/api/pipelines?page=2', /unknown query parameter 'page'/],
      [`${PL}/builds?branch=main`, /unknown query parameter 'branch'/],
      [`${PL}/builds/ID?x=1`, /unknown query parameter 'x'.*it takes none/],
      ['/api/me?debug=1', /unknown query parameter 'debug'/],
      [`${PL}/stats/buildsdurations?last=5`, /unknown query parameter 'last'/],
      ['/api/pipelines?sort=-age', /sort '-age' is not one of .*last_updated_at/],
      ['/api/builds?sort=repo_name;drop', /sort 'repo_name;drop'/],
    ];
    refused.forEach(([path, message]) =>
      it(`400: ${path}`, async () => {
        const r = await get(api(path.replace('ID', a[0]!.id)));
        expect(r.status).to.equal(400);
        expect(r.body).to.deep.include({ status: 400 });
        expect(r.body.message).to.match(message);
      }),
    );
  });
  describe('logs as Estafette serves them (build_log.go BuildLogStep, TailLogLine)', () => {
    let id: string;
    const base = () => `${PL}/builds/${id}`;
    before(async () => {
      const { build } = await createBuild(h.pool, {
        pipelineId: alpha.id,
        repoSource: 'github.com',
        repoOwner: 'estafette',
        repoName: 'alpha',
        branch: 'main',
        revision: 'd'.repeat(40),
        version: '1.0.3',
        plan: {
          kind: 'build',
          repoSource: 'github.com',
          repoOwner: 'estafette',
          repoName: 'alpha',
          branch: 'main',
          revision: 'd'.repeat(40),
          version: '1.0.3',
          builder: { track: 'stable', os: 'linux', medium: '', type: 'docker' },
          labels: {},
          estafetteEnv: {},
          stages: [
            planStage('build', 'golang:1.22', { services: [planService('db', 'postgres')] }),
            planStage('checks', '', { parallelStages: [planStage('lint', 'node:20-alpine'), planStage('unit', 'node:20-alpine')] }),
          ],
        },
      });
      id = build.id;
      await transitionBuildStatus(h.pool, id, 'running');
      await transitionBuildStatus(h.pool, id, 'failed');
      await upsertStageRuns(h.pool, 'build', id, [
        { stage: 'git-clone', run: 1, kind: 'builtin', status: 'succeeded', durationMs: 300 },
        { stage: 'build', run: 1, kind: 'stage', status: 'succeeded', durationMs: 1500 },
        { stage: 'build/db', run: 1, kind: 'service', parent: 'build', status: 'succeeded', durationMs: 1600 },
        { stage: 'checks', run: 1, kind: 'parallel', status: 'failed', durationMs: 900 },
        { stage: 'checks/lint', run: 1, kind: 'stage', parent: 'checks', status: 'succeeded', durationMs: 800 },
        { stage: 'checks/unit', run: 1, kind: 'stage', parent: 'checks', status: 'failed', durationMs: 900, message: 'exit code 3' },
      ]);
      const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
      const l = (seq: number, stage: string, text: string, stream: 'stdout' | 'stderr' = 'stdout') => ({ seq, stage, run: 1, time: at(seq), stream, text });
      await appendLogLines(h.pool, 'build', id, [
        l(0, 'git-clone', 'cloned'),
        l(1, 'build', 'go build'),
        l(2, 'build/db', 'ready'),
        l(3, 'build', 'done'),
        l(4, 'checks/lint', 'ok'),
        l(5, 'checks/unit', 'FAIL', 'stderr'),
      ]);
    });

    it('…/logs: the step tree, a bare array of steps with nestedSteps and services, nanoseconds, capital statuses, lines numbered per step', async () => {
      const r = await get(api(`${base()}/logs`));
      expect(r.status).to.equal(200);
      expect(r.body.map((s: { step: string }) => s.step)).to.deep.equal(['git-clone', 'build', 'checks']);
      const [clone, build, checks] = r.body;
      expect(clone).to.deep.equal({
        step: 'git-clone',
        image: null,
        duration: 300e6,
        logLines: [{ line: 1, timestamp: '2026-01-01T00:00:00.000Z', streamType: 'stdout', text: 'cloned' }],
        exitCode: 0,
        status: 'SUCCEEDED',
        autoInjected: true,
      });
      expect(build).to.deep.include({ step: 'build', image: { name: 'golang', tag: '1.22', isPulled: false, imageSize: 0, pullDuration: 0 }, duration: 1500e6, exitCode: 0, status: 'SUCCEEDED' });
      expect(build.logLines.map((x: { line: number; text: string }) => [x.line, x.text])).to.deep.equal([
        [1, 'go build'],
        [2, 'done'],
      ]);
      expect(build.services).to.deep.equal([
        {
          step: 'db',
          depth: 1,
          image: { name: 'postgres', tag: 'latest', isPulled: false, imageSize: 0, pullDuration: 0 },
          duration: 1600e6,
          logLines: [{ line: 1, timestamp: '2026-01-01T00:00:02.000Z', streamType: 'stdout', text: 'ready' }],
          exitCode: 0,
          status: 'SUCCEEDED',
        },
      ]);
      expect(checks).to.deep.include({ step: 'checks', status: 'FAILED', exitCode: 1 });
      expect(checks.nestedSteps.map((n: { step: string; depth: number; status: string; exitCode: number }) => [n.step, n.depth, n.status, n.exitCode])).to.deep.equal([
        ['lint', 1, 'SUCCEEDED', 0],
        ['unit', 1, 'FAILED', 3],
      ]);
      expect(checks.nestedSteps[1].logLines).to.deep.equal([{ line: 1, timestamp: '2026-01-01T00:00:05.000Z', streamType: 'stderr', text: 'FAIL' }]);
    });

    it('…/alllogs lists the job’s log ({items, pagination}); …/logsbyid/:id is it as Estafette’s BuildLog with its steps', async () => {
      const all = (await get(api(`${base()}/alllogs`))).body;
      expect(all.pagination).to.deep.equal({ page: 1, size: 20, totalPages: 1, totalItems: 1 });
      expect(all.items).to.have.length(1);
      expect(all.items[0]).to.deep.include({ id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'alpha', repoBranch: 'main', repoRevision: 'd'.repeat(40), buildID: id, steps: null });
      const one = (await get(api(`${base()}/logsbyid/${all.items[0].id}`))).body;
      expect(one).to.include({ id, buildID: id, repoBranch: 'main' });
      expect(one.steps).to.deep.equal((await get(api(`${base()}/logs`))).body);
      expect((await get(api(`${base()}/logsbyid/123`))).status).to.equal(404);
    });

    it('…/logs.stream: each log event is a TailLogLine (step, parentStage, type, depth, logLine) with our line beside it, numbered per step even when resumed', async () => {
      const { events } = await readSse(api(`${base()}/logs.stream`), { stop: (e) => e.event === 'close' });
      // Step events have no id: when the lines move on to another step, the one before gets its final
      // status (as the stage list had it; Estafette's UI applies events to the step it tails last);
      // a nested step's parent is announced before its first line (it has no lines of its own).
      const stepEvents = events.filter((e) => e.event === 'log').map((e) => (e.id === undefined ? JSON.parse(e.data) : e.id));
      expect(stepEvents).to.deep.equal([
        '0',
        { step: 'git-clone', type: 'stage', status: 'SUCCEEDED', duration: 300e6, exitCode: 0 },
        '1',
        '2',
        '3',
        { step: 'db', parentStage: 'build', type: 'service', depth: 1, status: 'SUCCEEDED', duration: 1600e6, exitCode: 0 },
        { step: 'build', type: 'stage', status: 'SUCCEEDED', duration: 1500e6, exitCode: 0 },
        { step: 'checks', type: 'stage', status: 'RUNNING' },
        '4',
        '5',
      ]);
      const logs = events.filter((e) => e.event === 'log' && e.id !== undefined).map((e) => JSON.parse(e.data));
      expect(logs.map((x) => [x.step, x.parentStage, x.type, x.depth, x.logLine.line, x.logLine.text])).to.deep.equal([
        ['git-clone', undefined, 'stage', undefined, 1, 'cloned'],
        ['build', undefined, 'stage', undefined, 1, 'go build'],
        ['db', 'build', 'service', 1, 1, 'ready'],
        ['build', undefined, 'stage', undefined, 2, 'done'],
        ['lint', 'checks', 'stage', 1, 1, 'ok'],
        ['unit', 'checks', 'stage', 1, 1, 'FAIL'],
      ]);
      expect(logs[5]).to.deep.include({ logLine: { line: 1, timestamp: '2026-01-01T00:00:05.000Z', streamType: 'stderr', text: 'FAIL' }, seq: 5, stage: 'checks/unit', run: 1, stream: 'stderr', text: 'FAIL' });
      // Resumed after seq 1: the build step's next line is still its second.
      const resumed = await readSse(api(`${base()}/logs.stream`), { headers: { 'last-event-id': '1' }, stop: (e) => e.event === 'close' });
      const first = resumed.events.filter((e) => e.event === 'log' && e.id !== undefined).map((e) => JSON.parse(e.data));
      expect(first.map((x) => [x.seq, x.step, x.logLine.line])).to.deep.equal([
        [2, 'db', 1],
        [3, 'build', 2],
        [4, 'lint', 1],
        [5, 'unit', 1],
      ]);
    });

    it('…/loglines keeps our flat, resumable lines (after, limit, stage, q)', async () => {
      expect((await get(api(`${base()}/loglines?after=3&limit=1`))).body.items).to.deep.equal([{ seq: 4, stage: 'checks/lint', run: 1, time: '2026-01-01T00:00:04.000Z', stream: 'stdout', text: 'ok' }]);
      expect((await get(api(`${base()}/loglines?q=fail`))).body).to.deep.include({ count: 1 });
      expect((await get(api(`${base()}/logs?after=3`))).status).to.equal(400);
    });
  });
});
