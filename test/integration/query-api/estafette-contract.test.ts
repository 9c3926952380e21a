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
import type { Pipeline } from '../../../shared/db/pipelines.ts';
import type { Build } from '../../../shared/db/builds.ts';
import { get, seed, startHarness, type Harness } from './harness.ts';

describe('query-api speaks Estafette’s contract (HTTP, PostgreSQL)', function () {
  this.timeout(60_000);
  let h: Harness;
  let alpha: Pipeline;
  let a: Build[];
  const api = (path: string) => `${h.apiUrl}${path}`;
  const PL = '/api/pipelines/github.com/estafette/alpha';

  before(async function () {
    h = await startHarness(this);
    ({ pipeline: alpha, builds: a } = await seed(h.pool, 'alpha', [
      { status: 'succeeded', version: '1.0.0' },
      { status: 'failed', version: '1.0.1', branch: 'feature' },
    ], { labels: { team: 'a', app: 'alpha' } }));
    await seed(h.pool, 'beta', [{ status: 'succeeded', version: '2.0.0' }], { labels: { team: 'b' }, releaseTargets: [{ name: 'tooling', actions: [] }] });
    // A build with a commit by carol (Estafette's recent committer), released by dave.
    const { build } = await createBuild(h.pool, {
      pipelineId: alpha.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'alpha', branch: 'main', revision: 'c'.repeat(40), version: '1.0.2',
      labels: { team: 'a', app: 'alpha' }, releaseTargets: [{ name: 'production', actions: [] }],
      commits: [{ id: 'c'.repeat(40), message: 'fix it', author: { name: 'Carol', email: 'carol@example.com' } }],
      trigger: { event: 'git', fields: { EVENT: 'push', REPOSITORY: 'github.com/estafette/alpha', BRANCH: 'main' } },
    });
    await transitionBuildStatus(h.pool, build.id, 'running');
    a.push(await transitionBuildStatus(h.pool, build.id, 'succeeded'));
    const rel = (await createRelease(h.pool, { pipelineId: alpha.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'alpha', version: '1.0.2', buildId: build.id, name: 'production', triggeredBy: 'dave@example.com' })).release;
    await transitionReleaseStatus(h.pool, rel.id, 'running');
    await transitionReleaseStatus(h.pool, rel.id, 'succeeded');
  });
  after(async () => {
    await h?.stop();
  });

  describe('filter and sort vocabulary (what estafette-ci-web sends)', () => {
    const names = async (path: string) => {
      const r = await get(api(path));
      expect(r.status, JSON.stringify(r.body)).to.equal(200);
      return r.body.items.map((x: { repoName?: string; buildVersion?: string }) => x.buildVersion ?? x.repoName);
    };

    it('filter[status]=all, filter[target]=all, filter[branch]=all and empty filters mean no filter', async () => {
      // AllPipelines.vue's query with every filter at its default.
      expect(await names('/api/pipelines?filter[status]=all&filter[since]=eternity&filter[target]=all&filter[search]=&filter[labels]=&page[number]=1&page[size]=12&sort=repo_source,repo_owner,repo_name')).to.deep.equal(['alpha', 'beta']);
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
});
