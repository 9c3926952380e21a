/**
 * The forge knows (issue 18), through webhook-ingest → bus → build-dispatch against the fake
 * forge: commit statuses for builds and releases on GitHub (every request checked against
 * GitHub's OpenAPI description), GitLab, Gitea and Bitbucket; a fork's pull request built
 * without secrets; `[skip ci]`; GitLab's "Resend request"; GitHub's redelivery after a failed
 * first processing; a forge API that fails, visibly; statuses a forge refuses, dead-lettered
 * with what they were about; tags; GitHub App installation tokens.
 */
import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { listStageRuns } from '../../../shared/db/stages.ts';
import { listBuilds } from '../../../shared/db/builds.ts';
import { getPipeline } from '../../../shared/db/pipelines.ts';
import { listReleases } from '../../../shared/db/releases.ts';
import { readLogLines } from '../../../shared/db/logs.ts';
import { encryptSecret, generateSecretKey } from '../../../shared/secrets/secret.ts';
import { FakeForge, type FakeRepo } from '../../support/fake-forge.ts';
import { githubContractProblems } from '../../support/github-openapi.ts';
import { bitbucketHeaders, giteaHeaders, githubHeaders, gitlabHeaders } from '../../support/webhooks.ts';
import { waitFor } from '../../support/processes.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { ForgeHarness, type HarnessOptions } from './harness.ts';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>;
const goScm = (forge: string, name: string): any => JSON.parse(readFileSync(new URL(`../../fixtures/webhooks/go-scm/${forge}/${name}.json`, import.meta.url), 'utf8'));
const buf = (v: unknown) => Buffer.from(JSON.stringify(v));

const MANIFEST = `version:\n  semver:\n    major: 1\n    minor: 2\nstages:\n  build:\n    image: alpine:3\n    commands: ["echo hi"]\nreleases:\n  production:\n    stages:\n      deploy:\n        image: alpine:3\n        commands: ["echo deploy"]\n`;
const SECRET = 'gh-secret';

/** A GitHub push payload (a community example) for `repo` at `sha`. */
function githubPush(repo: FakeRepo, sha: string, message = 'change', branch = 'main'): Buffer {
  const p = structuredClone(examples.find((e) => e.name === 'push')!.examples.find((x) => x.head_commit));
  p.ref = `refs/heads/${branch}`;
  p.after = sha;
  p.head_commit = { ...p.head_commit, id: sha, message };
  p.commits = [{ ...p.head_commit }];
  p.repository = { ...p.repository, full_name: `${repo.owner}/${repo.name}`, name: repo.name, html_url: `https://github.com/${repo.owner}/${repo.name}`, clone_url: repo.cloneUrl };
  return buf(p);
}

describe('forge integration: statuses, pull requests, skips, deliveries, failures', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let forge: FakeForge;
  let h: ForgeHarness;
  let n = 0;

  before(async function () {
    db = await migratedDatabase(this);
    forge = await new FakeForge().start();
  });
  after(async () => {
    await forge?.stop();
    await db?.close();
  });
  afterEach(async () => {
    await h?.stop();
    forge.heal();
  });

  const start = async (env: Record<string, string> = {}, opts: Omit<HarnessOptions, 'env'> = {}) => {
    h = await new ForgeHarness(db, { env: { GITHUB_WEBHOOK_SECRET: SECRET, GITHUB_API_URL: forge.url, GITHUB_TOKEN: 'ghp_test', ...env }, ...opts }).start();
    // The builder goes on once the forge has this job's statuses so far (or after 3 s, for forges that refuse them).
    h.runner.gate = (ref, n) => waitFor('the statuses so far', () => forge.statuses.filter((s) => JSON.stringify(s.body).includes(`/${ref.kind}s/${ref.id}"`)).length >= n, 3000).catch(() => undefined);
    return h;
  };
  const repoName = () => `app${++n}`;
  const finished = (id: string) => waitFor(`build ${id} to finish`, async () => ['succeeded', 'failed'].includes((await h.build(id))!.buildStatus) && (await h.build(id)));
  const buildsOf = async (repo: FakeRepo, source = 'github.com') => {
    const p = await getPipeline(db.pool, { repoSource: source, repoOwner: repo.owner, repoName: repo.name });
    return p ? (await listBuilds(db.pool, { pipelineId: p.id })).items : [];
  };
  const statesSettled = (sha: string, count: number) => waitFor(`${count} statuses on ${sha.slice(0, 8)}`, () => forge.statesOf(sha).length >= count && forge.statesOf(sha), 15_000);

  it('GitHub push: statuses pending → pending (running) → success on its sha with the build URL; every request matches GitHub OpenAPI', async () => {
    await start();
    const repo = forge.repo('octo', repoName());
    const sha = repo.commit({ '.estafette.yaml': MANIFEST });
    const body = githubPush(repo, sha);
    const res = await h.deliver('github', githubHeaders(SECRET, body, 'push', `d-${sha}`), body);
    expect(res.status).to.equal(202);
    const [build] = await waitFor('the build', async () => (await buildsOf(repo)).length > 0 && buildsOf(repo));
    await finished(build!.id);
    expect(await statesSettled(sha, 3)).to.deep.equal(['pending', 'pending', 'success']);
    const last = forge.statuses.filter((s) => s.sha === sha).at(-1)!;
    expect(last.body).to.deep.include({ context: `estafette/${repo.name}`, target_url: `https://ci.example.com/pipelines/github.com/octo/${repo.name}/builds/${build!.id}` });
    expect(String(last.body.description)).to.match(/^Build #1 \(1\.2\.\d+\) succeeded$/);
    const github = forge.requests.filter((r) => r.path.startsWith('/repos/'));
    expect(github.map((r) => `${r.method} ${r.path.split('/')[4]}`)).to.include.members(['GET contents', 'POST statuses']);
    expect(github.flatMap((r) => githubContractProblems(r))).to.deep.equal([]);
    expect(forge.requests.filter((r) => r.method === 'POST').every((r) => r.headers.authorization === 'Bearer ghp_test')).to.equal(true);
  });

  it('a failing build reports failure; a release reports pending → pending → success with context estafette/release/<target>', async () => {
    await start();
    const repo = forge.repo('octo', repoName());
    const sha = repo.commit({ '.estafette.yaml': MANIFEST });
    h.runner.outcome = 'failed';
    const body = githubPush(repo, sha);
    await h.deliver('github', githubHeaders(SECRET, body, 'push'), body);
    const [failed] = await waitFor('the build', async () => (await buildsOf(repo)).length > 0 && buildsOf(repo));
    await finished(failed!.id);
    expect(await statesSettled(sha, 3)).to.deep.equal(['pending', 'pending', 'failure']);

    h.runner.outcome = 'succeeded';
    const sha2 = repo.commit({ 'x.txt': '2' });
    const body2 = githubPush(repo, sha2);
    await h.deliver('github', githubHeaders(SECRET, body2, 'push'), body2);
    const ok = await waitFor('the second build', async () => (await buildsOf(repo)).find((b) => b.repoRevision === sha2 && b.buildStatus === 'succeeded'));
    await statesSettled(sha2, 3);
    await h.emit('release.requested', { repoSource: 'github.com', repoOwner: repo.owner, repoName: repo.name, name: 'production', version: ok.buildVersion, trigger: { event: 'manual', fields: {} }, chainDepth: 0 }, {});
    const releases = await waitFor('release statuses', () => {
      const r = forge.statuses.filter((s) => s.sha === sha2 && s.body.context === 'estafette/release/production');
      return r.length >= 3 && r;
    });
    expect(releases.map((s) => s.body.state)).to.deep.equal(['pending', 'pending', 'success']);
    expect(String(releases[2]!.body.target_url)).to.match(new RegExp(`/pipelines/github.com/octo/${repo.name}/releases/\\d+$`));
    expect(forge.requests.filter((r) => r.path.startsWith('/repos/')).flatMap((r) => githubContractProblems(r))).to.deep.equal([]);
  });

  const others: Array<{ forge: string; env: () => Record<string, string>; deliver: (repo: FakeRepo, sha: string) => [Record<string, string>, Buffer]; source: string; states: string[] }> = [
    {
      forge: 'gitlab',
      env: () => ({ GITLAB_WEBHOOK_TOKEN: 'gl', GITLAB_API_URL: `${forge.url}/api/v4`, GITLAB_TOKEN: 'glpat-test' }),
      deliver: (repo, sha) => {
        const p = goScm('gitlab', 'push');
        Object.assign(p, { after: sha, checkout_sha: sha, ref: 'refs/heads/main', commits: [] });
        p.project = { ...p.project, path_with_namespace: `${repo.owner}/${repo.name}`, web_url: `https://gitlab.example.com/${repo.owner}/${repo.name}`, git_http_url: repo.cloneUrl };
        return [gitlabHeaders('gl', 'Push Hook'), buf(p)];
      },
      source: 'gitlab.example.com',
      states: ['pending', 'running', 'success'],
    },
    {
      forge: 'gitea',
      env: () => ({ GITEA_WEBHOOK_SECRET: 'gt', GITEA_API_URL: forge.url, GITEA_TOKEN: 'gitea-test' }),
      deliver: (repo, sha) => {
        const p = goScm('gitea', 'push');
        Object.assign(p, { after: sha, ref: 'refs/heads/main', commits: [] });
        p.repository = { ...p.repository, full_name: `${repo.owner}/${repo.name}`, name: repo.name, html_url: `https://gitea.example.com/${repo.owner}/${repo.name}`, clone_url: repo.cloneUrl };
        const b = buf(p);
        return [giteaHeaders('gt', b, 'push'), b];
      },
      source: 'gitea.example.com',
      states: ['pending', 'pending', 'success'],
    },
    {
      forge: 'bitbucket',
      env: () => ({ BITBUCKET_WEBHOOK_SECRET: 'bb', BITBUCKET_API_URL: `${forge.url}/2.0`, BITBUCKET_TOKEN: 'bb-test' }),
      deliver: (repo, sha) => {
        const p = goScm('bitbucket', 'push');
        p.repository = { ...p.repository, full_name: `${repo.owner}/${repo.name}`, links: { html: { href: `https://bitbucket.org/${repo.owner}/${repo.name}` } } };
        p.push.changes = [{ ...p.push.changes[0], new: { ...p.push.changes[0].new, type: 'branch', name: 'main', target: { ...p.push.changes[0].new.target, hash: sha, message: 'change' } }, commits: [] }];
        const b = buf(p);
        return [bitbucketHeaders('bb', b, 'repo:push'), b];
      },
      source: 'bitbucket.org',
      states: ['INPROGRESS', 'INPROGRESS', 'SUCCESSFUL'],
    },
  ];
  others.forEach((o) =>
    it(`${o.forge} push: manifest through its API, statuses ${o.states.join(' → ')} on its sha`, async () => {
      await start(o.env());
      const repo = forge.repo('team', repoName());
      const sha = repo.commit({ '.estafette.yaml': MANIFEST });
      const [headers, body] = o.deliver(repo, sha);
      const res = await h.deliver(o.forge, headers, body);
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      const [build] = await waitFor('the build', async () => (await buildsOf(repo, o.source)).length > 0 && buildsOf(repo, o.source));
      await finished(build!.id);
      expect(await statesSettled(sha, 3)).to.deep.equal(o.states);
      const s = forge.statuses.filter((x) => x.sha === sha).at(-1)!;
      const url = `https://ci.example.com/pipelines/${o.source}/team/${repo.name}/builds/${build!.id}`;
      expect(JSON.stringify(s.body)).to.contain(url).and.contain(`estafette/${repo.name}`);
    }),
  );

  it("a fork's pull request builds its head on pull/<n>/head without secrets and reports on the head sha; one that needs a secret fails saying why", async () => {
    const key = generateSecretKey();
    await start({ ESTAFETTE_SECRET_KEY: key });
    const repo = forge.repo('octo', repoName());
    const base = repo.commit({ '.estafette.yaml': MANIFEST });
    const fork = forge.repo('contributor', repo.name);
    fork.commit({ '.estafette.yaml': MANIFEST });
    const head = fork.commit({ 'fix.txt': 'fix' }, 'fix');
    repo.fetchInto(fork, head, 'refs/pull/7/head');
    const pr = (number: number, sha: string) => {
      const p = structuredClone(examples.find((e) => e.name === 'pull_request')!.examples.find((x) => x.action === 'opened'));
      p.number = number;
      p.pull_request.number = number;
      p.pull_request.head = { ...p.pull_request.head, sha, ref: 'fix', repo: { ...p.pull_request.head.repo, full_name: `contributor/${repo.name}` } };
      p.pull_request.base = {
        ...p.pull_request.base,
        ref: 'main',
        repo: { ...p.pull_request.base.repo, full_name: `octo/${repo.name}`, name: repo.name, html_url: `https://github.com/octo/${repo.name}`, clone_url: repo.cloneUrl },
      };
      return buf(p);
    };
    const body = pr(7, head);
    expect((await h.deliver('github', githubHeaders(SECRET, body, 'pull_request'), body)).status).to.equal(202);
    const build = await waitFor('the PR build', async () => (await buildsOf(repo)).find((b) => b.repoRevision === head));
    expect(build.repoBranch).to.equal('pull/7/head');
    expect(build.trigger).to.deep.include({ event: 'pull_request' });
    expect(build.trigger!.fields).to.include({ NUMBER: '7', BASE_BRANCH: 'main', HEAD_BRANCH: 'fix', HEAD_REPOSITORY: `contributor/${repo.name}` });
    await finished(build.id);
    const job = h.runner.started.find((s) => s.ref.id === build.id)!;
    expect(job.config.secrets).to.deep.equal({ values: {} });
    expect(job.config).to.not.have.property('secretKey');
    expect(job.config.git).to.include({ branch: 'pull/7/head', revision: head });
    expect(job.config.plan.estafetteEnv.ESTAFETTE_TRIGGER_PULL_REQUEST_NUMBER).to.equal('7');
    expect(await statesSettled(head, 3)).to.deep.equal(['pending', 'pending', 'success']);
    expect(forge.statesOf(base)).to.deep.equal([]);
    // The fork's manifest never became the pipeline's.
    expect((await getPipeline(db.pool, { repoSource: 'github.com', repoOwner: 'octo', repoName: repo.name }))!.cloneUrl).to.equal('');

    // A version built from a fork cannot be released.
    await h.emit('release.requested', { repoSource: 'github.com', repoOwner: 'octo', repoName: repo.name, name: 'production', version: build.buildVersion, trigger: { event: 'manual', fields: {} }, chainDepth: 0 }, {});
    const refusedRelease = await waitFor('the refused release', async () => {
      const p = await getPipeline(db.pool, { repoSource: 'github.com', repoOwner: 'octo', repoName: repo.name });
      return (await listReleases(db.pool, { pipelineId: p!.id })).items.find((r) => r.releaseStatus === 'failed');
    });
    const why = (await listStageRuns(db.pool, 'release', refusedRelease.id)).find((x) => x.stage === 'validate-release')!;
    expect(why.message).to.match(/built from pull request #7 of a fork, which cannot be released/);

    const withSecret = fork.commit({ '.estafette.yaml': MANIFEST.replace('commands: ["echo hi"]', `env:\n      TOKEN: ${encryptSecret('s3cret', key)}\n    commands: ["echo hi"]`) }, 'use a secret');
    repo.fetchInto(fork, withSecret, 'refs/pull/8/head');
    const body8 = pr(8, withSecret);
    await h.deliver('github', githubHeaders(SECRET, body8, 'pull_request'), body8);
    const refused = await waitFor('the refused build', async () => (await buildsOf(repo)).find((b) => b.repoRevision === withSecret && b.buildStatus === 'failed'));
    const step = (await listStageRuns(db.pool, 'build', refused.id)).find((s) => s.stage === 'validate-secrets')!;
    expect(step.message).to.match(/stage 'build' needs estafette\.secret\(\.\.\.\) values, and builds of pull requests from forks get no secrets/);
    expect(h.runner.started.some((s) => s.ref.id === refused.id)).to.equal(false);
    expect(await statesSettled(withSecret, 2)).to.deep.equal(['pending', 'failure']);
  });

  it('a build superseded by a newer push of its branch gets commit status error with the reason', async () => {
    await start();
    const repo = forge.repo('octo', repoName());
    const first = repo.commit({ '.estafette.yaml': MANIFEST });
    // The first build's builder never gets going: it is still pending when the second push comes.
    let held: string | undefined;
    const gate = h.runner.gate;
    h.runner.gate = (ref, n) => ((held ??= ref.id) === ref.id ? new Promise(() => {}) : gate(ref, n));
    const deliver = async (sha: string) => {
      const body = githubPush(repo, sha, 'change', 'feature/login');
      expect((await h.deliver('github', githubHeaders(SECRET, body, 'push', `d-${sha}`), body)).status).to.equal(202);
    };
    await deliver(first);
    const [b1] = await waitFor('build 1', async () => (await buildsOf(repo)).length > 0 && buildsOf(repo));
    await waitFor('build 1 held by its runner', () => held === b1!.id);
    const second = repo.commit({ 'x.txt': '2' });
    await deliver(second);
    const states = await statesSettled(first, 2);
    expect(states).to.deep.equal(['pending', 'error']);
    const last = forge.statuses.filter((x) => x.sha === first).at(-1)!;
    expect(String(last.body.description)).to.equal(`Build #1 (${b1!.buildVersion}) was canceled: superseded by build #2 (${second.slice(0, 7)})`);
    expect((await h.build(b1!.id))!.statusReason).to.equal(`superseded by build #2 (${second.slice(0, 7)})`);
  });

  it('a push of 30 commits stores the newest 20 with the count', async () => {
    await start();
    const repo = forge.repo('octo', repoName());
    const sha = repo.commit({ '.estafette.yaml': MANIFEST });
    const p = JSON.parse(githubPush(repo, sha).toString());
    p.commits = Array.from({ length: 30 }, (_, i) => ({ ...p.head_commit, id: i === 29 ? sha : `c${i}`, message: `commit ${i}` }));
    const body = buf(p);
    await h.deliver('github', githubHeaders(SECRET, body, 'push'), body);
    const build = await waitFor('the build', async () => (await buildsOf(repo))[0]);
    expect(build.commits.map((c) => c.message)).to.deep.equal(Array.from({ length: 20 }, (_, i) => `commit ${i + 10}`));
    expect(build.commitCount).to.equal(30);
  });

  it('[skip ci] builds nothing: 202 ignored with the reason', async () => {
    await start();
    const repo = forge.repo('octo', repoName());
    const sha = repo.commit({ '.estafette.yaml': MANIFEST });
    const body = githubPush(repo, sha, 'docs only [skip ci]');
    const res = await h.deliver('github', githubHeaders(SECRET, body, 'push'), body);
    expect(res.status).to.equal(202);
    expect(res.body).to.deep.equal({ ignored: true, reason: 'push not built: the head commit message contains [skip ci]' });
    await new Promise((r) => setTimeout(r, 200));
    expect(await buildsOf(repo)).to.have.length(0);
  });

  it('GitLab "Resend request" (same Idempotency-Key, new X-Gitlab-Event-UUID) builds once, also past the duplicate window', async () => {
    await start({ GITLAB_WEBHOOK_TOKEN: 'gl', GITLAB_API_URL: `${forge.url}/api/v4`, GITLAB_TOKEN: 'glpat-test' }, { duplicateWindowMs: 0 });
    const repo = forge.repo('team', repoName());
    const sha = repo.commit({ '.estafette.yaml': MANIFEST });
    const [headers, body] = others[0]!.deliver(repo, sha);
    await h.deliver('gitlab', { ...headers, 'x-gitlab-event-uuid': 'uuid-a', 'idempotency-key': 'idem-1' }, body);
    const [build] = await waitFor('the build', async () => (await buildsOf(repo, 'gitlab.example.com')).length > 0 && buildsOf(repo, 'gitlab.example.com'));
    await finished(build!.id);
    await h.deliver('gitlab', { ...headers, 'x-gitlab-event-uuid': 'uuid-b', 'idempotency-key': 'idem-1' }, body);
    await new Promise((r) => setTimeout(r, 300));
    expect(await buildsOf(repo, 'gitlab.example.com')).to.have.length(1);
  });

  it('GitHub redelivery after a failed first processing builds: the forge API failed every attempt, then the same X-GitHub-Delivery is redelivered', async () => {
    await start({}, { duplicateWindowMs: 0 });
    const repo = forge.repo('octo', repoName());
    const sha = repo.commit({ '.estafette.yaml': MANIFEST });
    forge.fail(new RegExp(`GET /repos/octo/${repo.name}/contents`), { status: 500, message: 'Server Error' });
    const body = githubPush(repo, sha);
    const headers = githubHeaders(SECRET, body, 'push', 'delivery-redeliver');
    await h.deliver('github', headers, body);
    const failed = await waitFor('the build to fail after its last attempt', async () => (await buildsOf(repo)).find((b) => b.buildStatus === 'failed'));
    const runs = (await listStageRuns(db.pool, 'build', failed.id)).filter((s) => s.stage === 'fetch-manifest');
    expect(runs.map((r) => [r.run, r.status])).to.deep.equal([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    expect(runs[0]!.message).to.match(/attempt 1 of 3 .* failed: github: GET .*\/contents\/\.estafette\.yaml answered 500: Server Error/);
    const line = h.records.find((r) => String(r.msg).includes('unreadable after 3 attempts'))!;
    expect(line).to.include({ pipeline: `github.com/octo/${repo.name}`, branch: 'main', revision: sha });
    forge.heal();
    const again = await h.deliver('github', headers, body);
    expect(again.body.eventId).to.equal((await h.deliver('github', headers, body)).body.eventId);
    const rebuilt = await waitFor('the redelivery to build', async () => (await buildsOf(repo)).find((b) => b.buildStatus === 'succeeded'));
    expect(rebuilt.id).to.not.equal(failed.id);
    expect((await buildsOf(repo)).length).to.equal(2);
  });

  it('with the forge API failing, the build is pending at once with a fetch-manifest step saying which attempt failed and why', async () => {
    await start({ ESTAFETTE_MANIFEST_ATTEMPTS: '2' }, { attempts: 2 });
    const repo = forge.repo('octo', repoName());
    const sha = repo.commit({ '.estafette.yaml': MANIFEST });
    forge.fail(new RegExp(`GET /repos/octo/${repo.name}/contents`), { hang: true });
    const body = githubPush(repo, sha);
    await h.deliver('github', githubHeaders(SECRET, body, 'push'), body);
    const pending = await waitFor('a pending build with its first failed attempt', async () => {
      const b = (await buildsOf(repo))[0];
      const run = b && (await listStageRuns(db.pool, 'build', b.id)).find((s) => s.stage === 'fetch-manifest' && s.run === 1);
      return b && run && { b, run };
    });
    expect(pending.b.buildStatus).to.be.oneOf(['pending', 'failed']);
    expect(pending.run.message).to.match(/attempt 1 of 2 to read \.estafette\.yaml at [0-9a-f]{40} failed: github: GET .* failed: no answer within 400 ms/);
    const lines = await readLogLines(db.pool, 'build', pending.b.id, {});
    expect(lines.map((l: { text: string }) => l.text).join('\n')).to.match(/retried with backoff/);
    const failed = await finished(pending.b.id);
    expect(failed!.buildStatus).to.equal('failed');
  });

  it('a forge refusing statuses never fails the build; its status report is dead-lettered once, naming repository, branch, revision, state and HTTP status', async () => {
    await start();
    const repo = forge.repo('octo', repoName());
    const sha = repo.commit({ '.estafette.yaml': MANIFEST });
    forge.fail(new RegExp(`POST /repos/octo/${repo.name}/statuses`), { status: 503, message: 'Unicorn' });
    const body = githubPush(repo, sha);
    await h.deliver('github', githubHeaders(SECRET, body, 'push'), body);
    const [build] = await waitFor('the build', async () => (await buildsOf(repo)).length > 0 && buildsOf(repo));
    expect((await finished(build!.id))!.buildStatus).to.equal('succeeded');
    // pending and running may be overtaken by the build's end while they wait for their retry
    // (then they are dropped, not sent); the final status is dead-lettered after its last attempt.
    const dead = await waitFor('the final status dead-lettered', async () => {
      const d = (await h.bus.deadLetters()).filter((x) => x.event.type === 'ci.estafette.forge.status');
      return d.some((x) => (x.event.data as { status: string }).status === 'succeeded') && d;
    });
    const lines = h.records.filter((r) => r.eventType === 'ci.estafette.forge.status');
    expect(lines).to.have.length(dead.length);
    for (const l of lines) {
      expect(l).to.include({ repository: `github.com/octo/${repo.name}`, branch: 'main', revision: sha });
      expect(String(l.error)).to.match(
        new RegExp(
          `commit status '(pending|running|succeeded)' of build ${build!.id} for github.com/octo/${repo.name}@${sha.slice(0, 12)} \\(branch main\\) not reported: HTTP 503: github: POST .* answered 503: Unicorn`,
        ),
      );
      expect(String(l.msg)).to.contain(`repository github.com/octo/${repo.name} branch main revision ${sha}`);
    }
    expect(forge.statesOf(sha)).to.deep.equal([]);
  });

  it('a tag push builds only when the manifest has a git trigger with event tag (ESTAFETTE_GIT_TAG set)', async () => {
    await start();
    const repo = forge.repo('octo', repoName());
    const plain = repo.commit({ '.estafette.yaml': MANIFEST });
    const tagPush = (sha: string, tag: string) => {
      const p = JSON.parse(githubPush(repo, sha).toString());
      p.ref = `refs/tags/${tag}`;
      return buf(p);
    };
    const b1 = tagPush(plain, 'v1.0.0');
    await h.deliver('github', githubHeaders(SECRET, b1, 'push'), b1);
    await waitFor('the tag to be ignored', () => h.logs.some((l) => l.includes('tag push v1.0.0') && l.includes('not built')));
    expect(await buildsOf(repo)).to.have.length(0);
    const tagged = repo.commit({ '.estafette.yaml': `${MANIFEST}triggers:\n- name: tags\n  git:\n    event: tag\n    repository: self\n    branch: 'v.+'\n  builds: {}\n` });
    const b2 = tagPush(tagged, 'v1.1.0');
    await h.deliver('github', githubHeaders(SECRET, b2, 'push'), b2);
    const build = await waitFor('the tag build', async () => (await buildsOf(repo))[0]);
    expect(build.repoBranch).to.equal('v1.1.0');
    const job = await waitFor('the job', () => h.runner.started.find((s) => s.ref.id === build.id));
    expect(job.config.plan.estafetteEnv).to.include({ ESTAFETTE_GIT_TAG: 'v1.1.0', ESTAFETTE_TRIGGER_GIT_EVENT: 'tag' });
  });

  it('GitHub App: one installation token per installation (cached), used for a private repository, statuses and the clone', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    await start({ GITHUB_TOKEN: '', GITHUB_APP_ID: '12345', GITHUB_APP_PRIVATE_KEY: privateKey });
    const repo = forge.repo('octo', repoName(), { private: true });
    forge.installations.set(`octo/${repo.name}`, 777);
    const first = forge.issuedTokens.length;
    for (const i of [1, 2]) {
      const sha = repo.commit({ '.estafette.yaml': MANIFEST, 'n.txt': String(i) });
      const body = githubPush(repo, sha);
      await h.deliver('github', githubHeaders(SECRET, body, 'push'), body);
      await statesSettled(sha, 3);
    }
    expect(forge.issuedTokens.slice(first)).to.deep.equal([{ installationId: 777, token: forge.issuedTokens[first]!.token }]);
    const token = forge.issuedTokens[first]!.token;
    const job = h.runner.started.at(-1)!;
    expect(job.config.git.cloneUrl).to.equal(repo.cloneUrl.replace('http://', `http://x-access-token:${token}@`));
    expect(job.config.credentials).to.deep.equal([{ name: '127.0.0.1-clone', type: 'git-clone-token', values: { token } }].map((c) => ({ ...c, name: 'github.com-clone' })));
    const appRequests = forge.requests.filter((r) => r.path.startsWith('/app/') || r.path.endsWith('/installation'));
    expect(appRequests.map((r) => `${r.method} ${r.path}`)).to.deep.equal([`GET /repos/octo/${repo.name}/installation`, 'POST /app/installations/777/access_tokens']);
    expect(forge.requests.filter((r) => r.path.startsWith('/repos/') || r.path.startsWith('/app/')).flatMap((r) => githubContractProblems(r))).to.deep.equal([]);
  });
});
