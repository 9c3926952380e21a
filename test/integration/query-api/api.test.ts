/**
 * query-api's REST routes over real HTTP against real PostgreSQL (sign-in off): one test per
 * route for its JSON shape and filters, the bad-parameter table, 404s, and the validation of
 * rebuild / cancel / release before their events are published.
 */
import { expect } from 'chai';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendLogLines } from '../../../shared/db/logs.ts';
import { setPipelineArchived, upsertPipeline } from '../../../shared/db/pipelines.ts';
import { createRelease, transitionReleaseStatus, type Release } from '../../../shared/db/releases.ts';
import { upsertStageRuns } from '../../../shared/db/stages.ts';
import { replaceTriggers } from '../../../shared/db/triggers.ts';
import type { Build } from '../../../shared/db/builds.ts';
import type { Pipeline } from '../../../shared/db/pipelines.ts';
import { decryptSecret, generateSecretKey, isAllowed } from '../../../shared/secrets/secret.ts';
import { get, lines, post, seed, startHarness, type Harness } from './harness.ts';

describe('query-api routes (HTTP, PostgreSQL)', function () {
  this.timeout(60_000);
  let h: Harness;
  let dir: string;
  const key = generateSecretKey();
  let alpha: Pipeline;
  let a: Build[];
  let beta: Build[];
  let staging: Release;
  let pendingRelease: Release;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'ui-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>Estafette</title>');
    await writeFile(join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
    h = await startHarness(this, { secretKey: key, staticDir: dir });
    ({ pipeline: alpha, builds: a } = await seed(
      h.pool,
      'alpha',
      [
        { status: 'succeeded', version: '1.0.0' },
        { status: 'failed', version: '1.0.1', branch: 'feature' },
        { status: 'running', version: '1.0.2' },
      ],
      { labels: { team: 'a' } },
    ));
    ({ builds: beta } = await seed(h.pool, 'beta', [{ status: 'succeeded', version: '2.0.0' }], { labels: { team: 'b' } }));
    await upsertPipeline(h.pool, { repoSource: 'github.com', repoOwner: 'estafette', repoName: 'gamma' });
    await setPipelineArchived(h.pool, { repoSource: 'github.com', repoOwner: 'estafette', repoName: 'gamma' }, true);
    const rel = { pipelineId: alpha.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'alpha', version: '1.0.0', buildId: a[0]!.id };
    staging = (await createRelease(h.pool, { ...rel, name: 'staging', action: 'deploy', triggeredBy: 'alice@example.com' })).release;
    await transitionReleaseStatus(h.pool, staging.id, 'running');
    staging = await transitionReleaseStatus(h.pool, staging.id, 'succeeded');
    pendingRelease = (await createRelease(h.pool, { ...rel, name: 'production' })).release;
    await upsertStageRuns(h.pool, 'build', a[0]!.id, [
      { stage: 'build', run: 1, kind: 'stage', status: 'succeeded', durationMs: 1000 },
      { stage: 'test', run: 1, kind: 'stage', status: 'failed', message: 'exit code 1' },
    ]);
    await appendLogLines(h.pool, 'build', a[0]!.id, [...lines(0, 5, 'build'), ...lines(5, 5, 'test')]);
    await appendLogLines(h.pool, 'release', staging.id, lines(0, 3, 'deploy'));
    await replaceTriggers(h.pool, alpha.id, [{ jobKind: 'build', kind: 'cron', filter: { schedule: '0 * * * *' }, action: { builds: { branch: 'main' } } }]);
  });
  after(async () => {
    await h?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const api = (path: string) => `${h.apiUrl}${path}`;
  const PL = '/api/pipelines/github.com/estafette/alpha';
  const names = (items: Array<{ repoName: string }>) => items.map((i) => i.repoName);

  it('GET /api/pipelines: list envelope, newest activity first, active releases, filters, sort, paging', async () => {
    const all = await get(api('/api/pipelines'));
    expect(all.status).to.equal(200);
    expect(names(all.body.items)).to.deep.equal(['beta', 'alpha']);
    expect(all.body.pagination).to.deep.equal({ page: 1, size: 20, totalPages: 1, totalItems: 2 });
    const al = all.body.items[1];
    expect(al).to.include({ id: alpha.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'alpha', archived: false });
    expect(al.labels).to.deep.equal([{ key: 'team', value: 'a' }]);
    expect(al.lastBuild).to.include({ id: a[2]!.id, buildVersion: '1.0.2', buildStatus: 'running' });
    const st = al.releaseTargets.find((t: { name: string }) => t.name === 'staging');
    expect(st.actions).to.deep.equal([{ name: 'deploy' }, { name: 'rollback' }]);
    expect(st.activeReleases.map((r: Release) => [r.id, r.releaseStatus, r.action])).to.deep.equal([[staging.id, 'succeeded', 'deploy']]);

    const cases: Array<[string, string[]]> = [
      ['filter[labels]=team=a', ['alpha']],
      ['filter[labels]=team%3Db&filter[labels]=x%3Dy', []],
      ['filter[status]=running', ['alpha']],
      ['filter[status]=succeeded,failed', ['beta']],
      ['filter[search]=BET', ['beta']],
      ['filter[search]=estaf', ['beta', 'alpha']],
      ['filter[archived]=true', ['gamma']],
      ['filter[since]=1h', ['beta', 'alpha']],
      ['filter[since]=eternity', ['beta', 'alpha']],
      ['sort=name', ['alpha', 'beta']],
      ['page[size]=1&page[number]=2', ['alpha']],
    ];
    for (const [q, want] of cases) expect(names((await get(api(`/api/pipelines?${q}`))).body.items), q).to.deep.equal(want);
    expect((await get(api('/api/pipelines?page[size]=1'))).body.pagination).to.deep.equal({ page: 1, size: 1, totalPages: 2, totalItems: 2 });
  });

  describe('bad parameters → 400 with the parameter named', () => {
    const cases: Array<[string, RegExp]> = [
      ['/api/pipelines?page[size]=0', /page\[size\] must be an integer from 1 to 100/],
      ['/api/pipelines?page[size]=101', /page\[size\]/],
      ['/api/pipelines?page[number]=two', /page\[number\]/],
      ['/api/pipelines?filter[since]=2d', /filter\[since\] must be one of 1h, 1d, 1w, 1m, 1y, eternity/],
      ['/api/pipelines?filter[status]=done', /filter\[status\] 'done'/],
      ['/api/pipelines?sort=age', /sort 'age' is not one of repo_source, .*last_updated_at/],
      ['/api/pipelines?filter[labels]=team', /key=value/],
      ['/api/pipelines?filter[archived]=maybe', /filter\[archived\] must be true or false/],
      ['/api/builds?filter[status]=ok', /filter\[status\]/],
      ['/api/releases?page[number]=0', /page\[number\]/],
      [`${PL}/builds?page[size]=-1`, /page\[size\]/],
      [`${PL}/builds/ID/loglines?after=x`, /after must be an integer/],
      [`${PL}/builds/ID/loglines?limit=0`, /limit must be an integer from 1 to 50000/],
      [`${PL}/stats/buildsdurations?filter[last]=0`, /filter\[last\] must be an integer from 1 to 1000/],
      [`${PL}/stats/buildssuccessrate?filter[since]=today`, /filter\[since\]/],
      ['/api/stats/buildscount?filter[since]=1x', /filter\[since\]/],
      // PostgreSQL TEXT holds no NUL: before, these reached a query and failed as a 500.
      ['/api/builds?filter[branch]=ma%00in', /query parameter "filter\[branch\]" contains a NUL character/],
      ['/api/pipelines?filter[labels]=team%3Dc%00i', /query parameter "filter\[labels\]" contains a NUL character/],
      [`${PL}/builds/ID/logs?stage=bu%00ild`, /query parameter "stage" contains a NUL character/],
      ['/api/pipelines?x%00=1', /query parameter "x\\\\0" contains a NUL character/],
      ['/api/pipelines/github.com/estafette/al%00pha', /the path contains a NUL character/],
      [`${PL}/builds/ID/logs/bu%00ild`, /the path contains a NUL character/],
    ];
    cases.forEach(([path, message]) =>
      it(path, async () => {
        const r = await get(api(path.replace('ID', a[0]!.id)));
        expect(r.status).to.equal(400);
        expect(r.body.status).to.equal(400);
        expect(r.body.message).to.match(message);
      }),
    );
  });

  it('GET /api/pipelines/:source/:owner/:repo: one pipeline with triggers; 404 for unknown', async () => {
    const r = await get(api(PL));
    expect(r.status).to.equal(200);
    expect(r.body).to.include({ id: alpha.id, repoName: 'alpha' });
    const nextHour = new Date(Math.floor(Date.now() / 3_600_000 + 1) * 3_600_000).toISOString();
    expect(r.body.triggers).to.deep.equal([
      {
        cron: { schedule: '0 * * * *' },
        builds: { branch: 'main' },
        kind: 'cron',
        name: null,
        jobKind: 'build',
        jobName: null,
        filter: { schedule: '0 * * * *' },
        action: { builds: { branch: 'main' } },
        timeZone: 'UTC',
        nextFireAt: nextHour,
        lastFired: null,
      },
    ]);
    expect(r.body.releaseTargets.map((t: { name: string }) => t.name)).to.deep.equal(['production', 'staging']);
    expect(r.body.releaseTargets[0].activeReleases.map((x: Release) => x.id)).to.deep.equal([pendingRelease.id]);
    const missing = await get(api('/api/pipelines/github.com/estafette/nope'));
    expect(missing.status).to.equal(404);
    expect(missing.body).to.deep.equal({ status: 404, message: 'pipeline github.com/estafette/nope not found' });
  });

  it('GET …/builds: newest first, filter[branch], filter[status], paging', async () => {
    const r = await get(api(`${PL}/builds`));
    expect(r.body.items.map((b: Build) => b.buildVersion)).to.deep.equal(['1.0.2', '1.0.1', '1.0.0']);
    expect(r.body.pagination.totalItems).to.equal(3);
    const b = r.body.items[2];
    expect(b).to.include({ id: a[0]!.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'alpha', repoBranch: 'main', buildStatus: 'succeeded', buildNumber: 1 });
    expect(b).to.have.keys([...Object.keys(b)].filter((k) => k !== 'manifest'));
    expect(b).to.include.keys('repoRevision', 'labels', 'releaseTargets', 'commits', 'trigger', 'insertedAt', 'startedAt', 'updatedAt', 'duration');
    expect(b.manifest).to.equal(undefined);
    expect((await get(api(`${PL}/builds?filter[branch]=feature`))).body.items.map((x: Build) => x.buildVersion)).to.deep.equal(['1.0.1']);
    expect((await get(api(`${PL}/builds?filter[status]=succeeded,running`))).body.items.map((x: Build) => x.buildVersion)).to.deep.equal(['1.0.2', '1.0.0']);
    expect((await get(api(`${PL}/builds?page[size]=2&page[number]=2`))).body).to.deep.include({ pagination: { page: 2, size: 2, totalPages: 2, totalItems: 3 } });
  });

  it('GET …/recentbuilds: the latest build per branch', async () => {
    const r = await get(api(`${PL}/recentbuilds`));
    expect(r.body.items.map((b: Build) => [b.repoBranch, b.buildVersion])).to.deep.equal([
      ['main', '1.0.2'],
      ['feature', '1.0.1'],
    ]);
  });

  it("GET …/builds/:revisionOrId: by id with its manifest, by revision (latest), 404 for another pipeline's build or a bad id", async () => {
    const byId = await get(api(`${PL}/builds/${a[0]!.id}`));
    expect(byId.body).to.include({ id: a[0]!.id, buildVersion: '1.0.0', manifest: 'builder:\n  track: stable\n' });
    const byRev = await get(api(`${PL}/builds/${a[1]!.repoRevision}`));
    expect(byRev.body).to.include({ id: a[1]!.id, manifest: 'builder:\n  track: stable\n' });
    expect((await get(api(`${PL}/builds/${beta[0]!.id}`))).status).to.equal(404);
    expect((await get(api(`${PL}/builds/not-an-id`))).body).to.deep.equal({ status: 404, message: 'build not-an-id not found' });
  });

  it('GET …/builds/:id/stages and …/loglines (after, limit, stage)', async () => {
    const stages = await get(api(`${PL}/builds/${a[0]!.id}/stages`));
    expect(stages.body.items.map((s: { stage: string; status: string }) => [s.stage, s.status])).to.deep.equal([
      ['build', 'succeeded'],
      ['test', 'failed'],
    ]);
    expect(stages.body.items[1]).to.deep.equal({ stage: 'test', parent: null, kind: 'stage', run: 1, status: 'failed', startedAt: null, finishedAt: null, durationMs: null, message: 'exit code 1' });
    const logs = await get(api(`${PL}/builds/${a[0]!.id}/loglines`));
    expect(logs.body.items).to.deep.equal([...lines(0, 5, 'build'), ...lines(5, 5, 'test')]);
    expect((await get(api(`${PL}/builds/${a[0]!.id}/loglines?after=6&limit=2`))).body.items.map((l: { seq: number }) => l.seq)).to.deep.equal([7, 8]);
    expect((await get(api(`${PL}/builds/${a[0]!.id}/loglines?stage=test`))).body.items.map((l: { seq: number }) => l.seq)).to.deep.equal([5, 6, 7, 8, 9]);
    expect((await get(api(`${PL}/builds/${beta[0]!.id}/logs`))).status).to.equal(404);
  });

  it('POST …/builds: rebuild a version or build a branch → 202 + build.requested; bad bodies refused', async () => {
    const before = h.published.length;
    const r1 = await post(api(`${PL}/builds`), { buildVersion: '1.0.1' });
    expect(r1.status).to.equal(202);
    expect(r1.body.eventId).to.match(/^[0-9a-f-]{36}$/);
    const r2 = await post(api(`${PL}/builds`), { branch: 'release', revision: 'B'.repeat(40) });
    expect(r2.status).to.equal(202);
    expect(h.published.slice(before)).to.deep.equal([
      {
        name: 'build.requested',
        id: r1.body.eventId,
        data: {
          repoSource: 'github.com',
          repoOwner: 'estafette',
          repoName: 'alpha',
          trigger: { event: 'manual', fields: { USER_ID: 'local' } },
          requestedBy: 'local',
          chainDepth: 0,
          branch: 'feature',
          revision: a[1]!.repoRevision,
          version: '1.0.1',
          commits: [],
        },
      },
      {
        name: 'build.requested',
        id: r2.body.eventId,
        data: {
          repoSource: 'github.com',
          repoOwner: 'estafette',
          repoName: 'alpha',
          trigger: { event: 'manual', fields: { USER_ID: 'local' } },
          requestedBy: 'local',
          chainDepth: 0,
          branch: 'release',
          revision: 'b'.repeat(40),
        },
      },
    ]);
    const bad: Array<[unknown, number, RegExp, Record<string, string>?]> = [
      [{}, 400, /give buildVersion .* or branch/],
      ['{"buildVersion":', 400, /not valid JSON/],
      [{ buildVersion: 7 }, 400, /buildVersion is required \(a non-empty string\)/],
      [{ buildVersion: '9.9.9' }, 404, /version 9.9.9 of estafette\/alpha not found/],
      [{ branch: 'main', revision: 'abc' }, 400, /full commit id \(40 or 64 hex/],
      [{ branch: 'main', revision: '--all' }, 400, /full commit id/],
      // Would reach `git fetch origin <branch>` in the builder as an option.
      [{ branch: '--upload-pack=touch /tmp/pwned' }, 400, /branch is not a valid git branch name: "--upload-pack=touch \/tmp\/pwned"/],
      [{ branch: 'a..b' }, 400, /not a valid git branch name/],
      [{ branch: 'main\u0000x' }, 400, /branch contains a NUL character/],
      [{ branch: 'main' }, 415, /application\/json/, { 'content-type': 'text/plain' }],
    ];
    for (const [body, status, message, headers] of bad) {
      const r = await post(api(`${PL}/builds`), body, headers);
      expect([r.status, r.body.message]).to.satisfy(([s, m]: [number, string]) => s === status && message.test(m), JSON.stringify([body, r.body]));
    }
    expect((await post(api('/api/pipelines/github.com/estafette/nope/builds'), { branch: 'main' })).status).to.equal(404);
    expect(h.published.length).to.equal(before + 2);
  });

  it('DELETE …/builds/:id: cancel a running build → 202 + build.cancel; a finished one → 409; unknown → 404', async () => {
    const before = h.published.length;
    const r = await fetch(api(`${PL}/builds/${a[2]!.id}`), { method: 'DELETE' });
    expect(r.status).to.equal(202);
    const { eventId } = (await r.json()) as { eventId: string };
    expect(h.published.slice(before)).to.deep.equal([{ name: 'build.cancel', id: eventId, data: { id: a[2]!.id, requestedBy: 'local' } }]);
    const done = await fetch(api(`${PL}/builds/${a[0]!.id}`), { method: 'DELETE' });
    expect(done.status).to.equal(409);
    expect(((await done.json()) as { message: string }).message).to.equal(`build ${a[0]!.id} already finished (succeeded)`);
    expect((await fetch(api(`${PL}/builds/123`), { method: 'DELETE' })).status).to.equal(404);
    expect(h.published.length).to.equal(before + 1);
  });

  it('GET …/releases (filter[target]), …/releases/:id, its stages and logs', async () => {
    const list = await get(api(`${PL}/releases`));
    expect(list.body.items.map((r: Release) => r.id)).to.deep.equal([pendingRelease.id, staging.id]);
    expect(list.body.pagination.totalItems).to.equal(2);
    expect((await get(api(`${PL}/releases?filter[target]=staging`))).body.items.map((r: Release) => r.id)).to.deep.equal([staging.id]);
    const one = await get(api(`${PL}/releases/${staging.id}`));
    expect(one.body).to.include({ id: staging.id, name: 'staging', action: 'deploy', releaseVersion: '1.0.0', releaseStatus: 'succeeded', triggeredBy: 'alice@example.com', repoName: 'alpha' });
    expect(one.body).to.include.keys('insertedAt', 'startedAt', 'updatedAt', 'duration');
    expect((await get(api(`${PL}/releases/${staging.id}/stages`))).body).to.deep.equal({ items: [] });
    expect((await get(api(`${PL}/releases/${staging.id}/loglines`))).body.items).to.deep.equal(lines(0, 3, 'deploy'));
    expect((await get(api('/api/pipelines/github.com/estafette/beta/releases/' + staging.id))).status).to.equal(404);
  });

  describe("POST …/releases: validated against the version's succeeded build and its manifest", () => {
    const cases: Array<{ name: string; body: Record<string, unknown>; status: number; message?: RegExp }> = [
      { name: 'a target with an action', body: { name: 'staging', action: 'deploy', releaseVersion: '1.0.0' }, status: 202 },
      { name: 'a target without actions', body: { name: 'production', releaseVersion: '1.0.0' }, status: 202 },
      { name: 'no name', body: { releaseVersion: '1.0.0' }, status: 400, message: /name is required/ },
      { name: 'no version', body: { name: 'production' }, status: 400, message: /releaseVersion is required/ },
      { name: 'a NUL in the target name', body: { name: 'produc\u0000tion', releaseVersion: '1.0.0' }, status: 400, message: /name contains a NUL character/ },
      { name: 'an unknown version', body: { name: 'production', releaseVersion: '3.0.0' }, status: 404, message: /version 3.0.0 of estafette\/alpha not found/ },
      { name: 'a failed version', body: { name: 'production', releaseVersion: '1.0.1' }, status: 409, message: /version 1.0.1 has no succeeded build \(latest is failed\)/ },
      { name: 'a running version', body: { name: 'production', releaseVersion: '1.0.2' }, status: 409, message: /no succeeded build/ },
      { name: 'a target not in the manifest', body: { name: 'mars', releaseVersion: '1.0.0' }, status: 400, message: /release target 'mars' is not in the manifest of version 1.0.0 \(it has production, staging\)/ },
      { name: 'an action the target lacks', body: { name: 'staging', action: 'nuke', releaseVersion: '1.0.0' }, status: 400, message: /has no action 'nuke' \(it has deploy, rollback\)/ },
      { name: 'no action for a target with actions', body: { name: 'staging', releaseVersion: '1.0.0' }, status: 400, message: /needs an action: one of deploy, rollback/ },
      { name: 'an action for a target without actions', body: { name: 'production', action: 'deploy', releaseVersion: '1.0.0' }, status: 400, message: /has no action 'deploy'/ },
    ];
    cases.forEach((c) =>
      it(`${c.name} → ${c.status}`, async () => {
        const before = h.published.length;
        const r = await post(api(`${PL}/releases`), c.body);
        expect(r.status, JSON.stringify(r.body)).to.equal(c.status);
        if (c.status === 202) {
          expect(h.published.slice(before)).to.deep.equal([
            {
              name: 'release.requested',
              id: r.body.eventId,
              data: {
                repoSource: 'github.com',
                repoOwner: 'estafette',
                repoName: 'alpha',
                name: c.body.name,
                ...(c.body.action ? { action: c.body.action } : {}),
                version: '1.0.0',
                trigger: { event: 'manual', fields: { USER_ID: 'local' } },
                requestedBy: 'local',
                chainDepth: 0,
              },
            },
          ]);
        } else {
          expect(r.body.message).to.match(c.message!);
          expect(h.published.length).to.equal(before);
        }
      }),
    );
  });

  it('DELETE …/releases/:id: a pending release → 202 + release.cancel; a finished one → 409', async () => {
    const before = h.published.length;
    const r = await fetch(api(`${PL}/releases/${pendingRelease.id}`), { method: 'DELETE' });
    expect(r.status).to.equal(202);
    expect(h.published.slice(before).map((e) => [e.name, e.data.id])).to.deep.equal([['release.cancel', pendingRelease.id]]);
    expect((await fetch(api(`${PL}/releases/${staging.id}`), { method: 'DELETE' })).status).to.equal(409);
  });

  it('GET /api/builds and /api/releases: across pipelines, same filters', async () => {
    const builds = await get(api('/api/builds?filter[status]=succeeded'));
    expect(builds.body.items.map((b: Build) => b.buildVersion)).to.deep.equal(['2.0.0', '1.0.0']);
    expect(builds.body.pagination).to.deep.equal({ page: 1, size: 20, totalPages: 1, totalItems: 2 });
    expect((await get(api('/api/builds?filter[branch]=feature'))).body.items.map((b: Build) => b.buildVersion)).to.deep.equal(['1.0.1']);
    const releases = await get(api('/api/releases?filter[status]=succeeded'));
    expect(releases.body.items.map((r: Release) => r.id)).to.deep.equal([staging.id]);
  });

  it('GET /api/stats/{pipelines,builds,releases}count with list filters', async () => {
    const count = async (path: string) => (await get(api(path))).body;
    expect(await count('/api/stats/pipelinescount')).to.deep.equal({ count: 2 });
    expect(await count('/api/stats/pipelinescount?filter[labels]=team=b')).to.deep.equal({ count: 1 });
    expect(await count('/api/stats/buildscount')).to.deep.equal({ count: 4 });
    expect(await count('/api/stats/buildscount?filter[status]=failed&filter[since]=1d')).to.deep.equal({ count: 1 });
    expect(await count('/api/stats/releasescount?filter[target]=staging')).to.deep.equal({ count: 1 });
  });

  it('GET …/stats/buildsdurations, buildssuccessrate, releases', async () => {
    const d = await get(api(`${PL}/stats/buildsdurations?filter[last]=2&filter[status]=all`));
    expect(d.body.durations.map((x: Build) => [x.id, x.buildVersion, x.buildStatus])).to.deep.equal([
      [a[2]!.id, '1.0.2', 'running'],
      [a[1]!.id, '1.0.1', 'failed'],
    ]);
    expect(d.body.durations[0]).to.have.keys('id', 'buildVersion', 'buildStatus', 'insertedAt', 'pendingDuration', 'duration');
    expect(d.body.durations[1].duration).to.be.a('number');
    // Estafette's default: the succeeded builds only.
    expect((await get(api(`${PL}/stats/buildsdurations`))).body.durations.map((x: Build) => x.buildStatus)).to.deep.equal(['succeeded']);
    expect((await get(api(`${PL}/stats/buildssuccessrate?filter[since]=1w`))).body).to.deep.equal({ total: 2, succeeded: 1, failed: 1, rate: 0.5 });
    const rs = await get(api(`${PL}/stats/releases`));
    expect(rs.body.items).to.have.length(1);
    expect(rs.body.items[0]).to.include({ name: 'staging', action: 'deploy', count: 1, lastReleasedAt: staging.finishedAt });
    expect(rs.body.items[0].medianLeadTime).to.be.a('number').and.at.least(0);
  });

  it('POST /api/manifest/validate: succeeded / failed with field errors', async () => {
    const ok = await post(api('/api/manifest/validate'), { manifest: 'stages:\n  build:\n    image: golang:1.22\n    commands:\n    - go build\n' });
    expect(ok.body).to.deep.include({ status: 'succeeded', errors: [] });
    const bad = await post(api('/api/manifest/validate'), { manifest: 'builder:\n  os: macos\nstages: {}\n' });
    expect(bad.body.status).to.equal('failed');
    expect(bad.body.errors.length).to.be.greaterThan(0);
    expect(bad.body.errors[0]).to.have.keys('field', 'message');
    expect((await post(api('/api/manifest/validate'), { manifest: 42 })).status).to.equal(400);
  });

  it('POST /api/manifest/encrypt: a secret that decrypts with the key (plain, base64, double); bad allow-list → 400', async () => {
    const plain = await post(api('/api/manifest/encrypt'), { value: 's3cret', pipelineAllowList: 'github.com/estafette/.*' });
    expect(plain.status).to.equal(200);
    expect(plain.body.secret).to.match(/^estafette\.secret\(.+\)$/);
    expect(decryptSecret(plain.body.secret, key)).to.deep.equal({ value: 's3cret', allowList: 'github.com/estafette/.*' });
    const b64 = await post(api('/api/manifest/encrypt'), { value: 's3cret', base64: true, pipelineAllowList: '.*' });
    expect(decryptSecret(b64.body.secret, key).value).to.equal(Buffer.from('s3cret').toString('base64'));
    const double = await post(api('/api/manifest/encrypt'), { value: 's3cret', double: true, pipelineAllowList: '.*' });
    expect(decryptSecret(decryptSecret(double.body.secret, key).value, key).value).to.equal('s3cret');
    const bad = await post(api('/api/manifest/encrypt'), { value: 'x', pipelineAllowList: '(' });
    expect(bad.status).to.equal(400);
    expect(bad.body.message).to.match(/allow-list is not a valid regular expression/);
    expect((await post(api('/api/manifest/encrypt'), { value: 1 })).status).to.equal(400);
  });

  it('POST /api/manifest/encrypt: an empty allow list means the given pipeline only, never every pipeline', async () => {
    const mine = await post(api('/api/manifest/encrypt'), { value: 's3cret', pipeline: 'github.com/estafette/alpha.v2', pipelineAllowList: '' });
    expect(mine.status).to.equal(200);
    const { allowList } = decryptSecret(mine.body.secret, key);
    expect(allowList).to.equal('github\\.com/estafette/alpha\\.v2');
    expect(isAllowed(allowList, 'github.com/estafette/alpha.v2')).to.equal(true);
    for (const other of ['github.com/estafette/alphaxv2', 'github.com/estafette/beta', 'github.com/estafette/alpha.v2-fork']) expect(isAllowed(allowList, other), other).to.equal(false);
    const none = await post(api('/api/manifest/encrypt'), { value: 's3cret' });
    expect([none.status, none.body.message]).to.deep.equal([400, 'give pipeline (the secret is then usable by that pipeline only) or pipelineAllowList (a regular expression; .* for every pipeline)']);
    expect((await post(api('/api/manifest/encrypt'), { value: 's3cret', pipeline: 'alpha' })).body.message).to.match(/pipeline must look like source\/owner\/name/);
  });

  it('GET /api/me and /api/auth/*: sign-in off means everyone is an administrator', async () => {
    // Estafette's User: active (its UI then needs no sign-in), administrator role.
    expect((await get(api('/api/me'))).body).to.deep.equal({
      id: 'local',
      active: true,
      identities: [{ provider: 'local', id: 'local', email: 'local', name: 'local administrator' }],
      roles: ['administrator'],
      currentProvider: 'local',
      email: 'local',
      name: 'local administrator',
      authenticated: false,
      user: null,
      role: 'administrator',
      authEnabled: false,
    });
    expect((await get(api('/api/auth/providers'))).body).to.deep.equal([]);
    expect((await get(api('/api/auth/login/github'))).status).to.equal(404);
  });

  it('GET /liveness, /readiness', async () => {
    expect((await get(api('/liveness'))).body).to.deep.equal({ status: 'ok', function: 'query-api' });
    expect((await get(api('/readiness'))).body).to.deep.equal({ status: 'ok', function: 'query-api' });
  });

  it('serves the built UI: files, SPA fallback to index.html, never outside the folder; /api stays JSON', async () => {
    const js = await get(api('/assets/app-1234.js'));
    expect([js.status, js.body, js.headers.get('content-type'), js.headers.get('cache-control')]).to.deep.equal([200, 'console.log(1)', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
    for (const path of ['/', '/pipelines/github.com/estafette/alpha', '/%2e%2e/%2e%2e/etc/passwd', '/assets/missing.js']) {
      const r = await get(api(path));
      expect([r.status, r.body, r.headers.get('content-type')], path).to.deep.equal([200, '<!doctype html><title>Estafette</title>', 'text/html; charset=utf-8']);
    }
    const miss = await get(api('/api/nothing'));
    expect([miss.status, miss.body]).to.deep.equal([404, { status: 404, message: 'no route GET /api/nothing' }]);
    expect((await fetch(api('/api/pipelines'), { method: 'PUT' })).status).to.equal(405);
  });
});
