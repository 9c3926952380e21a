/**
 * Pipeline, release and git triggers through a real build-dispatch: real PostgreSQL, file://
 * repositories, the kubernetes JobRunner against the fake API server, and published events fed
 * back into the handler as the bus would deliver them.
 */
import { expect } from 'chai';
import { listReleases } from '../../../shared/db/releases.ts';
import { transitionBuildStatus } from '../../../shared/db/builds.ts';
import type { BuildRequestedData, ReleaseRequestedData } from '../../../shared/events/types.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { DispatchHarness, type Published } from './harness.ts';

const STAGES = `
stages:
  build:
    image: alpine:3.20
    commands: ["true"]
`;

/** A manifest whose build is triggered by pipeline `name` finishing on main. */
const triggeredBy = (name: string, extra = '') => `
triggers:
- name: upstream
  pipeline:
    name: ${name}
    branch: main${extra}
  builds:
    branch: main
${STAGES}`;

const requests = (events: Published[]) => events.filter((e): e is Extract<Published, { name: 'build.requested' }> => e.name === 'build.requested');
const releaseRequests = (events: Published[]) => events.filter((e): e is Extract<Published, { name: 'release.requested' }> => e.name === 'release.requested');

describe('triggers (build-dispatch)', function () {
  let db: TestDatabase;
  let h: DispatchHarness;

  before(async function () {
    db = await migratedDatabase(this);
  });
  after(async () => db?.close());
  beforeEach(async () => {
    h = await DispatchHarness.start(db);
  });
  afterEach(async () => h?.stop());

  describe('pipeline triggers', () => {
    it("a build of A finishing fires B's trigger once, even when build.finished is delivered twice", async () => {
      const a = h.repo('a', STAGES);
      const b = h.repo('b', triggeredBy(a.full));
      await b.push();
      await a.push();
      h.take();
      const [aBuild] = await a.builds();
      await h.finish(aBuild.id, 'succeeded', 2);

      const reqs = requests(h.take());
      expect(reqs).to.have.length(2);
      expect(reqs[1].id).to.equal(reqs[0].id);
      const data: BuildRequestedData = reqs[0].data;
      expect(data).to.include({ ...b.ref, branch: 'main', chainDepth: 1 });
      expect(data.trigger).to.deep.include({ event: 'pipeline', name: 'upstream' });
      expect(data.trigger.fields).to.include({ EVENT: 'finished', STATUS: 'succeeded', BUILD_VERSION: aBuild.buildVersion, REPO_NAME: a.name, BRANCH: 'main' });

      // Both deliveries reach dispatch (concurrently): one build.
      await Promise.all(reqs.map((e) => h.handler(e)));
      const builds = await b.builds();
      expect(builds.map((x) => [x.buildNumber, x.chainDepth])).to.deep.equal([
        [2, 1],
        [1, 0],
      ]);
      expect(builds[0].trigger).to.deep.equal(data.trigger);
      const env = h.builderConfig(builds[0].id).plan.estafetteEnv;
      expect(env).to.include({
        ESTAFETTE_TRIGGER_EVENT: 'pipeline',
        ESTAFETTE_TRIGGER_PIPELINE_BUILD_VERSION: aBuild.buildVersion,
        ESTAFETTE_TRIGGER_PIPELINE_REPO_NAME: a.name,
        ESTAFETTE_TRIGGER_UPSTREAM_BUILD_VERSION: aBuild.buildVersion,
      });
    });

    it('the named trigger that fired resolves to the firing build, not the newest one', async () => {
      const a = h.repo('a', STAGES);
      const b = h.repo('b', triggeredBy(a.full));
      await b.push();
      await a.push();
      await a.push();
      const [newer, older] = await a.builds();
      await transitionBuildStatus(db.pool, newer.id, 'running');
      await transitionBuildStatus(db.pool, newer.id, 'succeeded');
      h.take();
      await h.finish(older.id); // the older build's report arrives last
      await h.drain();
      const [triggered] = await b.builds();
      expect(triggered.trigger?.fields.BUILD_VERSION).to.equal(older.buildVersion);
      expect(h.builderConfig(triggered.id).plan.estafetteEnv.ESTAFETTE_TRIGGER_UPSTREAM_BUILD_VERSION).to.equal(older.buildVersion);
      expect(newer.buildVersion).to.not.equal(older.buildVersion);
    });

    const fires: Array<{ name: string; trigger: (aFull: string) => string }> = [
      { name: 'exact name', trigger: (n) => n },
      { name: 'name in another case', trigger: (n) => n.toUpperCase() },
      { name: 'regex pattern', trigger: (n) => `local/team/${n.split('/')[2].split('-')[0]}-.*` },
    ];
    fires.forEach((c) =>
      it(`fires on a trigger by ${c.name}`, async () => {
        const a = h.repo('up', STAGES);
        const b = h.repo('down', triggeredBy(c.trigger(a.full)));
        await b.push();
        await a.push();
        h.take();
        await h.finish((await a.builds())[0].id);
        expect(requests(h.take()).map((e) => e.data.repoName)).to.deep.equal([b.name]);
      }),
    );

    const quiet: Array<{ name: string; branch: string; status: 'succeeded' | 'failed' | 'canceled'; extra?: string }> = [
      { name: 'a failed build (status defaults to succeeded)', branch: 'main', status: 'failed' },
      { name: 'a build of another branch', branch: 'feature-x', status: 'succeeded' },
      { name: 'a status excluded with !~', branch: 'main', status: 'succeeded', extra: '\n    status: "!~succeeded"' },
    ];
    quiet.forEach((c) =>
      it(`does not fire on ${c.name}`, async () => {
        const a = h.repo('a', STAGES);
        const b = h.repo('b', triggeredBy(a.full, c.extra));
        await b.push();
        await a.push(c.branch);
        h.take();
        await h.finish((await a.builds())[0].id, c.status);
        expect(requests(h.take())).to.deep.equal([]);
        expect(await b.builds()).to.have.length(1);
      }),
    );

    it('a build.started fires a trigger with event: started', async () => {
      const a = h.repo('a', STAGES);
      const b = h.repo('b', triggeredBy(a.full, '\n    event: started'));
      await b.push();
      await a.push();
      h.take();
      const [aBuild] = await a.builds();
      await h.handler({ name: 'build.started', id: `started-${aBuild.id}`, data: { ...a.ref, buildId: aBuild.id, branch: 'main', revision: aBuild.repoRevision, version: aBuild.buildVersion, chainDepth: 0 } });
      const [req] = requests(h.take());
      expect(req.data.trigger.fields).to.include({ EVENT: 'started', STATUS: 'running' });
      await h.finish(aBuild.id);
      expect(requests(h.take())).to.deep.equal([]);
    });

    it('a trigger loop (A triggers B triggers A) stops at the chain depth bound and says so', async () => {
      const bounded = await DispatchHarness.start(db, 3);
      try {
        const a = bounded.repo('loop-a', STAGES);
        const b = bounded.repo('loop-b', STAGES);
        await b.push('main', { '.estafette.yaml': triggeredBy(a.full) });
        await bounded.finish((await b.builds())[0].id); // A has no pipeline yet: fires nothing
        await a.push('main', { '.estafette.yaml': triggeredBy(b.full) });
        bounded.take();
        for (let round = 0; round < 20; round++) {
          const pending = [...(await a.builds()), ...(await b.builds())].filter((x) => x.buildStatus === 'pending');
          if (pending.length === 0) break;
          for (const p of pending) await bounded.finish(p.id);
          await bounded.drain();
        }
        expect((await a.builds()).map((x) => x.chainDepth)).to.deep.equal([2, 0]);
        expect((await b.builds()).map((x) => x.chainDepth)).to.deep.equal([3, 1, 0]);
        expect(bounded.logs.join('\n')).to.match(new RegExp(`build of ${a.full}@main refused: trigger chain depth 4 exceeds 3`));
      } finally {
        await bounded.stop();
      }
    });
  });

  describe('release triggers on self', () => {
    const RELEASING = `
${STAGES}
releases:
  production:
    triggers:
    - pipeline:
        name: self
        branch: main
    stages:
      deploy:
        image: alpine:3.20
        commands: ["true"]
`;

    it('a succeeded build on the release branch releases the same version; one on another branch does not', async () => {
      const r = h.repo('svc', RELEASING);
      await r.push('main');
      const [build] = await r.builds();
      h.take();
      await h.finish(build.id);
      const [req] = releaseRequests(h.take());
      const data: ReleaseRequestedData = req.data;
      expect(data).to.include({ ...r.ref, name: 'production', version: build.buildVersion, chainDepth: 1 });
      expect(data.trigger.event).to.equal('pipeline');
      await h.handler(req);
      const releases = (await listReleases(db.pool, { pipelineId: build.pipelineId })).items;
      expect(releases.map((x) => [x.name, x.releaseVersion, x.releaseStatus, x.chainDepth])).to.deep.equal([['production', build.buildVersion, 'pending', 1]]);
      expect(h.api.jobs().filter((j) => j.metadata.name.startsWith('release-'))).to.have.length(1);

      await r.push('feature-y');
      const [feature] = await r.builds();
      expect(feature.repoBranch).to.equal('feature-y');
      h.take();
      await h.finish(feature.id);
      expect(releaseRequests(h.take())).to.deep.equal([]);
      expect((await listReleases(db.pool, { pipelineId: build.pipelineId })).items).to.have.length(1);
    });
  });

  describe('release and git triggers', () => {
    it('a finished release of A to production builds B, with the release fields', async () => {
      const a = h.repo('a', STAGES);
      const b = h.repo(
        'b',
        `
triggers:
- release:
    name: ${a.full}
    target: production
  builds:
    branch: main
${STAGES}`,
      );
      await b.push();
      h.take();
      const release = (status: 'succeeded' | 'failed', target = 'production') => ({
        name: 'release.finished' as const,
        id: `rel-${status}-${target}`,
        data: { ...a.ref, releaseId: '42', name: target, version: '1.0.7', status, chainDepth: 2 },
      });
      await h.handler(release('failed'));
      await h.handler(release('succeeded', 'staging'));
      expect(requests(h.take())).to.deep.equal([]);
      await h.handler(release('succeeded'));
      const [req] = requests(h.take());
      expect(req.data).to.include({ repoName: b.name, chainDepth: 3 });
      expect(req.data.trigger).to.deep.equal({
        event: 'release',
        fields: { EVENT: 'finished', STATUS: 'succeeded', NAME: a.full, REPO_SOURCE: 'local', REPO_OWNER: 'team', REPO_NAME: a.name, TARGET: 'production', ACTION: '', RELEASE_VERSION: '1.0.7', RELEASE_ID: '42' },
      });
    });

    it('a push to A builds B through a git trigger; a push to another branch does not; a self git trigger adds nothing to a push', async () => {
      const a = h.repo(
        'a',
        `
triggers:
- git:
    repository: self
    branch: main
  builds: {}
${STAGES}`,
      );
      const b = h.repo(
        'b',
        `
triggers:
- git:
    repository: ${a.full}
    branch: main
  builds:
    branch: main
${STAGES}`,
      );
      await b.push();
      h.take();
      await a.push('feature-z');
      expect(requests(h.take())).to.deep.equal([]);
      const rev = await a.push('main');
      const reqs = requests(h.take());
      expect(reqs.map((e) => e.data.repoName)).to.deep.equal([b.name]);
      expect(reqs[0].data.trigger).to.deep.include({ event: 'git' });
      expect(reqs[0].data.trigger.fields).to.include({ EVENT: 'push', REPOSITORY: a.full, BRANCH: 'main', REVISION: rev });
      for (const e of reqs) await h.handler(e);
      expect((await b.builds()).map((x) => x.trigger?.event)).to.deep.equal(['git', 'git']);
      expect(await a.builds()).to.have.length(2);
    });

    it("a bot's pipeline trigger requests the bot (bot.requested), not a build or release", async () => {
      const a = h.repo('a', STAGES);
      const b = h.repo(
        'b',
        `
${STAGES}
bots:
  tidy:
    triggers:
    - pipeline:
        name: ${a.full}
        branch: main
    stages:
      tidy:
        image: alpine:3.20
        commands: ["true"]
`,
      );
      await b.push();
      await a.push();
      await a.push();
      h.take();
      for (const x of await a.builds()) await h.finish(x.id);
      const events = h.take();
      expect([...requests(events), ...releaseRequests(events)]).to.deep.equal([]);
      const bots = events.filter((e): e is Extract<Published, { name: 'bot.requested' }> => e.name === 'bot.requested');
      expect(bots.map((e) => [e.data.repoName, e.data.name, e.data.trigger.event])).to.deep.equal([
        [b.name, 'tidy', 'pipeline'],
        [b.name, 'tidy', 'pipeline'],
      ]);
    });
  });
});
