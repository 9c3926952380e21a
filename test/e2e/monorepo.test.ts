/**
 * Only what changed, end to end through a started `estafette start` (real builder, host
 * executor): the generic webhook's optional `before` gives dispatch the pushed range, a push
 * touching only docs/ skips the `api` stage guarded by `changed('services/api/**')` and runs the
 * rest, a push touching services/api/ runs it; a pipeline whose `paths` match none of the
 * changed files builds nothing, and the reason is in the webhook's answer (`?wait=`) and the log;
 * a first push (no before revision) runs everything.
 */
import { expect } from 'chai';
import { freshDatabase, requireService } from '../support/services.ts';
import { startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { tempRepo, type TempRepo } from '../support/git-repo.ts';
import { waitFor } from '../support/processes.ts';

const MONOREPO = `
stages:
  api:
    image: alpine:3.20
    when: status == 'succeeded' && changed('services/api/**')
    commands: ["echo building the api"]
  web:
    image: alpine:3.20
    when: changed('services/web/**', 'package.json')
    commands: ["echo building the web app"]
  docs:
    image: alpine:3.20
    commands: ["echo docs and everything else"]
`;

const FILTERED = `
paths: ['services/**']
ignorePaths: ['**/*.md']
stages:
  build:
    image: alpine:3.20
    commands: ["echo build"]
`;

describe('only what changed: changed() in when and path filters (estafette start)', function () {
  this.timeout(120_000);
  let sys: LocalSystem;
  let drop: (() => Promise<void>) | undefined;
  const repos: TempRepo[] = [];

  before(async function () {
    const env: Record<string, string | undefined> = { NATS_URL: undefined, DATABASE_URL: undefined };
    if (process.env.DATABASE_URL || process.env.REQUIRE_SERVICES === '1') {
      const db = await freshDatabase(await requireService(this, 'postgres'), 'mono');
      env.DATABASE_URL = db.url;
      drop = db.drop;
    }
    sys = await startLocalSystem({ env });
  });
  after(async () => {
    await sys?.stop();
    for (const r of repos) r.remove();
    await drop?.();
  });

  const repo = (name: string) => {
    const r = tempRepo(`${name}-${Math.random().toString(36).slice(2, 7)}`, 'main', 'mono');
    repos.push(r);
    return r;
  };
  const pathOf = (r: TempRepo) => `/api/pipelines/local/mono/${r.dir.split('/').pop()}`;
  const push = async (r: TempRepo, revision: string, before?: string, wait = 0) => {
    const res = await fetch(`${sys.url}/api/integrations/generic/events${wait ? `?wait=${wait}` : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sys.token}` },
      body: JSON.stringify({ repository: `file://${r.dir}`, branch: 'main', revision, ...(before ? { before } : {}) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const build = (r: TempRepo, n: number) =>
    waitFor(
      `build ${n} of ${r.dir} to end`,
      async () => {
        const b = ((await sys.api(`${pathOf(r)}/builds`)).body.items ?? []).find((x: any) => x.buildNumber === n);
        return b && ['succeeded', 'failed', 'canceled'].includes(b.buildStatus) ? b : undefined;
      },
      60_000,
      200,
    );
  const stageStatuses = async (r: TempRepo, id: string) => Object.fromEntries(((await sys.api(`${pathOf(r)}/builds/${id}/stages`)).body.items as any[]).filter((s) => !s.parent).map((s) => [s.stage, s.status]));

  it('a push touching only docs/ skips the api stage; one touching services/api/ runs it; the first push runs everything', async () => {
    const r = repo('mono');
    const first = r.commit({ '.estafette.yaml': MONOREPO, 'services/api/main.go': 'package main', 'docs/index.md': '# docs' });
    expect((await push(r, first)).status).to.equal(202);
    const b1 = await build(r, 1);
    expect(b1.buildStatus, sys.output()).to.equal('succeeded');
    expect(await stageStatuses(r, b1.id)).to.include({ api: 'succeeded', web: 'succeeded', docs: 'succeeded' });

    const docsOnly = r.commit({ 'docs/guide.md': 'more docs' });
    expect((await push(r, docsOnly, first)).status).to.equal(202);
    const b2 = await build(r, 2);
    expect(b2.buildStatus, sys.output()).to.equal('succeeded');
    expect(await stageStatuses(r, b2.id)).to.include({ api: 'skipped', web: 'skipped', docs: 'succeeded' });

    const apiChange = r.commit({ 'services/api/handler.go': 'package main // v2' });
    await push(r, apiChange, docsOnly);
    const b3 = await build(r, 3);
    expect(await stageStatuses(r, b3.id)).to.include({ api: 'succeeded', web: 'skipped', docs: 'succeeded' });
    const logs = ((await sys.api(`${pathOf(r)}/builds/${b3.id}/loglines`)).body.items as any[]).map((l) => l.text);
    expect(logs).to.include('building the api');
    expect(logs).to.not.include('building the web app');
  });

  it('a path filter that matches none of the changed files builds nothing: the reason is in the webhook answer and the log', async () => {
    const r = repo('filtered');
    const first = r.commit({ '.estafette.yaml': FILTERED, 'services/api/main.go': 'x' });
    await push(r, first);
    expect((await build(r, 1)).buildStatus).to.equal('succeeded');

    const docsOnly = r.commit({ 'docs/guide.txt': 'docs', 'services/api/README.md': 'ignored' });
    const answer = await push(r, docsOnly, first, 10);
    expect(answer.status).to.equal(202);
    expect(answer.body.dispatch, JSON.stringify(answer.body)).to.have.length(1);
    expect(answer.body.dispatch[0]).to.include({ eventId: answer.body.eventId, outcome: 'skipped' });
    expect(answer.body.dispatch[0].reason).to.match(/builds nothing: no changed file matches paths \[services\/\*\*\] outside ignorePaths \(2 changed files\)/);
    await waitFor('the reason in the log', () => /builds nothing: no changed file matches paths/.test(sys.output()), 10_000);
    expect((await sys.api(`${pathOf(r)}/builds`)).body.items).to.have.length(1);

    const real = r.commit({ 'services/api/main.go': 'y' });
    const built = await push(r, real, docsOnly, 10);
    expect(built.body.dispatch[0]).to.include({ outcome: 'build', buildNumber: 2 });
    expect((await build(r, 2)).buildStatus).to.equal('succeeded');
  });
});
