/**
 * Issue 18's "Must show" end to end through a started `estafette start` (host executor, real
 * builder): a signed GitHub push for a repository served by the fake GitHub (manifest through
 * the contents API, `git clone` over smart HTTP) gets the statuses `pending` then `success` on
 * its sha with the build's URL; a failing build gets `failure`; a release reports on the
 * released sha; and with the forge API failing the build shows at once, pending, with a
 * `fetch-manifest` step saying which attempt failed and why.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { freshDatabase, requireService } from '../support/services.ts';
import { startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { FakeForge, type FakeRepo } from '../support/fake-forge.ts';
import { githubContractProblems } from '../support/github-openapi.ts';
import { githubHeaders } from '../support/webhooks.ts';
import { waitFor } from '../support/processes.ts';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>;
const SECRET = 'e2e-webhook-secret';

const manifest = (exitCode: number) => `
stages:
  hello:
    image: alpine:3.20
    commands:
    - echo "hello from \${ESTAFETTE_GIT_NAME} at \${ESTAFETTE_GIT_REVISION}"
    - cat README.md
    - exit ${exitCode}
releases:
  production:
    clone: true
    stages:
      deploy:
        image: alpine:3.20
        commands: ["echo deploying \${ESTAFETTE_BUILD_VERSION}"]
`;

function push(repo: FakeRepo, sha: string): Buffer {
  const p = structuredClone(examples.find((e) => e.name === 'push')!.examples.find((x) => x.head_commit));
  Object.assign(p, { ref: 'refs/heads/main', after: sha });
  p.head_commit = { ...p.head_commit, id: sha, message: 'change' };
  p.commits = [p.head_commit];
  p.repository = { ...p.repository, full_name: `${repo.owner}/${repo.name}`, name: repo.name, html_url: `https://github.com/${repo.owner}/${repo.name}`, clone_url: repo.cloneUrl };
  return Buffer.from(JSON.stringify(p));
}

describe('estafette start with a GitHub repository: statuses, release, forge failures', function () {
  this.timeout(120_000);
  let sys: LocalSystem;
  let forge: FakeForge;
  let drop: (() => Promise<void>) | undefined;
  const owner = `octo${randomBytes(3).toString('hex')}`;

  before(async function () {
    forge = await new FakeForge().start();
    const env: Record<string, string | undefined> = { NATS_URL: undefined, DATABASE_URL: undefined, GITHUB_WEBHOOK_SECRET: SECRET, GITHUB_API_URL: forge.url, GITHUB_TOKEN: 'ghp_e2e', ESTAFETTE_FORGE_TIMEOUT_MS: '2000' };
    if (process.env.DATABASE_URL || process.env.REQUIRE_SERVICES === '1') {
      const db = await freshDatabase(await requireService(this, 'postgres'), 'forge');
      env.DATABASE_URL = db.url;
      drop = db.drop;
    }
    sys = await startLocalSystem({ env });
  });
  after(async () => {
    await sys?.stop();
    await forge?.stop();
    await drop?.();
  });

  const deliver = (body: Buffer) => fetch(`${sys.url}/api/integrations/github/events`, { method: 'POST', headers: githubHeaders(SECRET, body, 'push'), body: new Uint8Array(body) });
  const pipeline = (repo: FakeRepo) => `/api/pipelines/github.com/${repo.owner}/${repo.name}`;
  const buildAt = (repo: FakeRepo, sha: string, final = true) =>
    waitFor(
      `the build of ${sha.slice(0, 8)}`,
      async () => {
        const b = ((await sys.api(`${pipeline(repo)}/builds`)).body.items ?? []).find((x: any) => x.repoRevision === sha);
        return b && (!final || ['succeeded', 'failed'].includes(b.buildStatus)) ? b : undefined;
      },
      60_000,
      100,
    );
  const states = (sha: string, context: string, n: number) =>
    waitFor(
      `${n} statuses ${context} on ${sha.slice(0, 8)}`,
      () => {
        const s = forge.statuses.filter((x) => x.sha === sha && x.body.context === context);
        return s.length >= n && s;
      },
      30_000,
      100,
    );

  it('a push builds (manifest from the contents API, clone over HTTP) and reports pending then success with the build URL; a failing one reports failure', async () => {
    const repo = forge.repo(owner, 'web');
    const sha = repo.commit({ '.estafette.yaml': manifest(0), 'README.md': 'cloned over http\n' });
    expect((await deliver(push(repo, sha))).status).to.equal(202);
    const build = await buildAt(repo, sha);
    expect(build.buildStatus, sys.output()).to.equal('succeeded');
    const logs = ((await sys.api(`${pipeline(repo)}/builds/${build.id}/loglines`)).body.items as Array<{ text: string }>).map((l) => l.text);
    expect(logs, logs.join('\n')).to.include('cloned over http');
    expect(logs.join('\n')).to.not.contain('ghp_e2e');
    const s = await states(sha, 'estafette/web', 3);
    expect(s.map((x) => x.body.state)).to.deep.equal(['pending', 'pending', 'success']);
    expect(s.every((x) => x.body.target_url === `${sys.url}/pipelines/github.com/${owner}/web/builds/${build.id}`)).to.equal(true);

    const bad = repo.commit({ '.estafette.yaml': manifest(3) });
    await deliver(push(repo, bad));
    expect((await buildAt(repo, bad)).buildStatus).to.equal('failed');
    expect((await states(bad, 'estafette/web', 3)).map((x) => x.body.state)).to.deep.equal(['pending', 'pending', 'failure']);

    const rel = await sys.api(`${pipeline(repo)}/releases`, { method: 'POST', body: JSON.stringify({ name: 'production', releaseVersion: build.buildVersion }) });
    expect(rel.status, JSON.stringify(rel.body)).to.be.oneOf([201, 202]);
    const r = await states(sha, 'estafette/release/production', 3);
    expect(r.map((x) => x.body.state)).to.deep.equal(['pending', 'pending', 'success']);
    expect(String(r[2]!.body.target_url)).to.match(new RegExp(`^${sys.url}/pipelines/github.com/${owner}/web/releases/\\d+$`));
    expect(forge.requests.filter((x) => x.path.startsWith('/repos/')).flatMap((x) => githubContractProblems(x))).to.deep.equal([]);
  });

  it('with the forge API failing, the build is visible at once, pending, with the failed attempt and its cause', async () => {
    const repo = forge.repo(owner, 'down');
    const sha = repo.commit({ '.estafette.yaml': manifest(0) });
    forge.fail(new RegExp(`GET /repos/${owner}/down/contents`), { status: 503, message: 'GitHub is down' });
    const t0 = Date.now();
    expect((await deliver(push(repo, sha))).status).to.equal(202);
    const build = await buildAt(repo, sha, false);
    const step = await waitFor('the fetch-manifest step', async () => ((await sys.api(`${pipeline(repo)}/builds/${build.id}/stages`)).body.items as any[]).find((x) => x.stage === 'fetch-manifest'), 30_000, 100);
    const visibleMs = Date.now() - t0;
    console.log(`      (push → pending build with its failed attempt visible in ${visibleMs} ms)`);
    expect(build.buildStatus).to.equal('pending');
    expect(step.message).to.match(/^attempt 1 of 5 to read \.estafette\.yaml at [0-9a-f]{40} failed: github: GET .*\/contents\/\.estafette\.yaml answered 503: GitHub is down$/);
    forge.heal();
  });
});
