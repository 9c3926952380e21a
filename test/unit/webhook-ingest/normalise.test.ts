/**
 * Webhook normalisation against payloads nobody here wrote: GitHub's community examples (npm
 * `@octokit/webhooks-examples`) and GitLab, Gitea, Bitbucket Cloud and Server payloads from
 * drone/go-scm's test data (test/fixtures/webhooks/go-scm/README.md) — each delivered signed to
 * the handler as its forge sends it.
 */
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { makeHandler, deliveryEventId } from '../../../functions/webhook-ingest/handler.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { toHttpResponse } from '../../../shared/errors/http-error.ts';
import { MAX_PUSH_COMMITS } from '../../../shared/events/types.ts';
import { bitbucketHeaders, giteaHeaders, githubHeaders, gitlabHeaders } from '../../support/webhooks.ts';
import { silentLogger } from '../../support/logger.ts';

type Examples = Array<{ name: string; examples: any[] }>;
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Examples;
const githubExamples = (name: string): any[] => examples.find((e) => e.name === name)!.examples;
const goScm = (forge: string, name: string): any => JSON.parse(readFileSync(new URL(`../../fixtures/webhooks/go-scm/${forge}/${name}.json`, import.meta.url), 'utf8'));

const secrets = { github: 'gh', bitbucket: 'bb', gitlab: 'gl', gitea: 'gt', generic: 'gen' };

function harness(forkPullRequests: 'build' | 'ignore' = 'build') {
  const published: Array<{ name: string; data: any; id: string }> = [];
  const handler = makeHandler({
    secrets,
    publish: async (name, data, id) => (published.push({ name, data, id }), { duplicate: false }),
    maxBodyBytes: 25 * 1024 * 1024,
    forkPullRequests,
    log: silentLogger,
  });
  const call = async (forge: string, headers: Record<string, string>, body: Buffer, query = ''): Promise<{ status: number; body: any }> => {
    const req: HttpRequest = { method: 'POST', path: `/api/integrations/${forge}/events`, query: new URLSearchParams(query), headers, rawBody: body, signal: new AbortController().signal };
    try {
      return (await handler(req)) as { status: number; body: any };
    } catch (err) {
      return toHttpResponse(err) as { status: number; body: any };
    }
  };
  return { published, call };
}

const buf = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('webhook normalisation: GitHub (@octokit/webhooks-examples)', () => {
  githubExamples('push').forEach((p, i) =>
    it(`push example ${i} (${p.ref} → ${String(p.after).slice(0, 8)})`, async () => {
      const h = harness();
      const body = buf(p);
      const res = await h.call('github', githubHeaders(secrets.github, body, 'push', `push-${i}`), body);
      expect(res.status).to.equal(202);
      if (/^0+$/.test(p.after)) return expect(res.body).to.deep.equal({ ignored: true, reason: 'push deleted the ref' });
      const e = h.published[0]!;
      expect(e.name).to.equal('git.push');
      const ref = String(p.ref);
      expect(e.data).to.deep.include({
        forge: 'github',
        repoSource: 'github.com',
        repoOwner: p.repository.owner.login ?? p.repository.owner.name,
        repoName: p.repository.name,
        cloneUrl: p.repository.clone_url,
        revision: p.after,
        deliveryId: `push-${i}`,
        branch: ref.startsWith('refs/heads/') ? ref.slice(11) : '',
      });
      if (ref.startsWith('refs/tags/')) expect(e.data.tag).to.equal(ref.slice(10));
      expect(e.data.commits).to.have.length(p.commits.length);
      expect(e.id).to.equal(deliveryEventId('github', `push-${i}`, 0));
    }),
  );

  githubExamples('pull_request').forEach((p, i) =>
    it(`pull_request example ${i} (${p.action}), and the same from a fork`, async () => {
      const h = harness();
      const same = buf(p);
      const a = await h.call('github', githubHeaders(secrets.github, same, 'pull_request', `pr-${i}`), same);
      expect(a.status).to.equal(202);
      expect(a.body.ignored).to.equal(true);
      const builds = ['opened', 'synchronize', 'reopened'].includes(p.action);
      expect(a.body.reason).to.match(builds ? /from a branch of the repository itself/ : /does not build/);
      const fork = structuredClone(p);
      fork.pull_request.head.repo.full_name = 'contributor/Hello-World';
      const forked = buf(fork);
      const b = await h.call('github', githubHeaders(secrets.github, forked, 'pull_request', `prf-${i}`), forked);
      expect(b.status).to.equal(202);
      if (!builds) return expect(b.body.ignored).to.equal(true);
      expect(h.published).to.have.length(1);
      expect(h.published[0]!.name).to.equal('git.pull_request');
      expect(h.published[0]!.data).to.deep.include({
        forge: 'github',
        repoSource: 'github.com',
        repoOwner: 'Codertocat',
        repoName: 'Hello-World',
        number: p.number,
        action: p.action,
        baseBranch: p.pull_request.base.ref,
        headBranch: p.pull_request.head.ref,
        headRepository: 'contributor/Hello-World',
        fork: true,
        revision: p.pull_request.head.sha,
        cloneUrl: p.pull_request.base.repo.clone_url,
        cloneRef: `pull/${p.number}/head`,
      });
    }),
  );

  it('ESTAFETTE_FORK_PULL_REQUESTS=ignore: a fork pull request is ignored with that reason', async () => {
    const h = harness('ignore');
    const p = structuredClone(githubExamples('pull_request').find((x) => x.action === 'opened'));
    p.pull_request.head.repo.full_name = 'contributor/Hello-World';
    const body = buf(p);
    const res = await h.call('github', githubHeaders(secrets.github, body, 'pull_request'), body);
    expect(res.body).to.deep.include({ ignored: true });
    expect(res.body.reason).to.match(/ESTAFETTE_FORK_PULL_REQUESTS is ignore/);
    expect(h.published).to.have.length(0);
  });

  const installationCases: Array<{ event: string; action: string; archived: boolean; list: string }> = [
    { event: 'installation', action: 'deleted', archived: true, list: 'repositories' },
    { event: 'installation', action: 'created', archived: false, list: 'repositories' },
    { event: 'installation_repositories', action: 'removed', archived: true, list: 'repositories_removed' },
    { event: 'installation_repositories', action: 'added', archived: false, list: 'repositories_added' },
  ];
  installationCases.forEach((c) =>
    it(`${c.event} ${c.action}: each repository's pipeline is ${c.archived ? 'archived' : 'unarchived'}`, async () => {
      const p = githubExamples(c.event).find((x) => x.action === c.action && (x[c.list] ?? []).length > 0);
      expect(p, `an example of ${c.event} ${c.action}`).to.not.equal(undefined);
      const h = harness();
      const body = buf(p);
      const res = await h.call('github', githubHeaders(secrets.github, body, c.event), body);
      expect(res.status).to.equal(202);
      expect(h.published.map((e) => [e.name, `${e.data.repoOwner}/${e.data.repoName}`, e.data.archived])).to.deep.equal(p[c.list].map((r: any) => ['pipeline.archived', r.full_name, c.archived]));
    }),
  );

  it('accepts the form-encoded delivery (payload=…), signed over the form body', async () => {
    const h = harness();
    const p = githubExamples('push').find((x) => !/^0+$/.test(x.after));
    const body = Buffer.from(new URLSearchParams({ payload: JSON.stringify(p) }).toString());
    const headers = { ...githubHeaders(secrets.github, body, 'push', 'form-1'), 'content-type': 'application/x-www-form-urlencoded' };
    const res = await h.call('github', headers, body);
    expect(res.status).to.equal(202);
    expect(h.published[0]!.data.revision).to.equal(p.after);
    const noPayload = Buffer.from('other=1');
    const bad = await h.call('github', { ...githubHeaders(secrets.github, noPayload, 'push'), 'content-type': 'application/x-www-form-urlencoded' }, noPayload);
    expect(bad.status).to.equal(400);
  });

  const skips: Array<[string, RegExp]> = [
    ['Fix the build [skip ci]', /\[skip ci\]/],
    ['[CI SKIP] docs', /\[ci skip\]/],
    ['docs only [no ci]', /\[no ci\]/],
    ['wip [skip estafette]', /\[skip estafette\]/],
    ['Update README\n\n\nskip-checks: true', /skip-checks: true/],
  ];
  skips.forEach(([message, reason]) =>
    it(`a push whose head commit says ${JSON.stringify(message)} does not build`, async () => {
      const p = structuredClone(githubExamples('push').find((x) => x.head_commit));
      p.head_commit.message = message;
      const h = harness();
      const body = buf(p);
      const res = await h.call('github', githubHeaders(secrets.github, body, 'push'), body);
      expect(res.status).to.equal(202);
      expect(res.body.ignored).to.equal(true);
      expect(res.body.reason).to.match(reason);
      expect(h.published).to.have.length(0);
    }),
  );

  it('a push of 2,048 commits carries the newest 20 and the count', async () => {
    const p = structuredClone(githubExamples('push').find((x) => x.head_commit));
    const one = p.commits[0] ?? p.head_commit;
    p.commits = Array.from({ length: 2048 }, (_, i) => ({ ...one, id: `c${i}`, message: `commit ${i}` }));
    const h = harness();
    const body = buf(p);
    await h.call('github', githubHeaders(secrets.github, body, 'push'), body);
    const d = h.published[0]!.data;
    expect(d.commits).to.have.length(MAX_PUSH_COMMITS);
    expect(d.commits[MAX_PUSH_COMMITS - 1].id).to.equal('c2047');
    expect(d.commitCount).to.equal(2048);
  });

  it('a GitHub App delivery carries its installation id', async () => {
    const p = structuredClone(githubExamples('push').find((x) => x.head_commit));
    p.installation = { id: 4242, node_id: 'x' };
    const h = harness();
    const body = buf(p);
    await h.call('github', githubHeaders(secrets.github, body, 'push'), body);
    expect(h.published[0]!.data.installationId).to.equal(4242);
  });
});

describe('webhook normalisation: GitLab (go-scm test data)', () => {
  it('Push Hook → git.push; dedupe on Idempotency-Key: a "Resend request" (new Event-UUID) has the same event id', async () => {
    const p = goScm('gitlab', 'push');
    const h = harness();
    const body = buf(p);
    const first = await h.call('gitlab', { ...gitlabHeaders(secrets.gitlab, 'Push Hook', 'uuid-1'), 'idempotency-key': 'key-1' }, body);
    const resent = await h.call('gitlab', { ...gitlabHeaders(secrets.gitlab, 'Push Hook', 'uuid-2'), 'idempotency-key': 'key-1' }, body);
    expect(first.body.eventId).to.equal(resent.body.eventId);
    const path = String(p.project.path_with_namespace);
    expect(h.published[0]!.data).to.deep.include({
      forge: 'gitlab',
      repoOwner: path.slice(0, path.lastIndexOf('/')),
      repoName: path.slice(path.lastIndexOf('/') + 1),
      revision: p.checkout_sha,
      cloneUrl: p.project.git_http_url,
    });
    const legacy = await h.call('gitlab', gitlabHeaders(secrets.gitlab, 'Push Hook', 'uuid-3'), body);
    expect(legacy.body.eventId).to.equal(deliveryEventId('gitlab', 'uuid-3', 0));
  });

  it('subgroups keep their path as owner; tags carry the tag; deleted branches are ignored', async () => {
    const h = harness();
    const sub = goScm('gitlab', 'push_subgroup');
    await h.call('gitlab', gitlabHeaders(secrets.gitlab, 'Push Hook'), buf(sub));
    expect(`${h.published[0]!.data.repoOwner}/${h.published[0]!.data.repoName}`).to.equal(sub.project.path_with_namespace);
    const tag = goScm('gitlab', 'tag_create');
    await h.call('gitlab', gitlabHeaders(secrets.gitlab, 'Tag Push Hook'), buf(tag));
    expect(h.published[1]!.data).to.include({ branch: '', tag: String(tag.ref).replace('refs/tags/', '') });
    const del = await h.call('gitlab', gitlabHeaders(secrets.gitlab, 'Push Hook'), buf(goScm('gitlab', 'branch_delete')));
    expect(del.body).to.deep.equal({ ignored: true, reason: 'push deleted the ref' });
  });

  it('Merge Request Hook: same project ignored, from a fork → git.pull_request of the target project; close ignored', async () => {
    const h = harness();
    const p = goScm('gitlab', 'pull_request_create');
    const same = await h.call('gitlab', gitlabHeaders(secrets.gitlab, 'Merge Request Hook'), buf(p));
    expect(same.body.reason).to.match(/merge request #\d+ comes from a branch of the repository itself/);
    const fork = structuredClone(p);
    fork.object_attributes.source_project_id = 999;
    fork.object_attributes.source.path_with_namespace = 'contributor/fork';
    const res = await h.call('gitlab', gitlabHeaders(secrets.gitlab, 'Merge Request Hook'), buf(fork));
    expect(res.status).to.equal(202);
    const a = p.object_attributes;
    expect(h.published[0]!.data).to.deep.include({
      forge: 'gitlab',
      number: a.iid,
      action: 'open',
      baseBranch: a.target_branch,
      headBranch: a.source_branch,
      headRepository: 'contributor/fork',
      revision: a.last_commit.id,
      cloneRef: `merge-requests/${a.iid}/head`,
    });
    const closed = await h.call('gitlab', gitlabHeaders(secrets.gitlab, 'Merge Request Hook'), buf(goScm('gitlab', 'pull_request_close')));
    expect(closed.body.reason).to.match(/brings no new commits/);
    const update = structuredClone(fork);
    update.object_attributes.action = 'update';
    expect((await h.call('gitlab', gitlabHeaders(secrets.gitlab, 'Merge Request Hook'), buf(update))).body.reason).to.match(/no new commits/);
    update.object_attributes.oldrev = 'a'.repeat(40);
    expect((await h.call('gitlab', gitlabHeaders(secrets.gitlab, 'Merge Request Hook'), buf(update))).body.eventId).to.be.a('string');
  });
});

describe('webhook normalisation: Gitea / Forgejo (go-scm test data)', () => {
  it('push → git.push; tags; deleted branches ignored; Forgejo headers accepted', async () => {
    const h = harness();
    const p = goScm('gitea', 'push');
    const body = buf(p);
    expect((await h.call('gitea', giteaHeaders(secrets.gitea, body, 'push', 'g-1'), body)).status).to.equal(202);
    expect(h.published[0]!.data).to.deep.include({ forge: 'gitea', repoOwner: p.repository.owner.username ?? p.repository.full_name.split('/')[0], revision: p.after, cloneUrl: p.repository.clone_url });
    const sig = giteaHeaders(secrets.gitea, body, 'push', 'g-2');
    const forgejo = { 'content-type': 'application/json', 'x-forgejo-event': 'push', 'x-forgejo-delivery': 'g-2', 'x-forgejo-signature': sig['x-gitea-signature']! };
    expect((await h.call('gitea', forgejo, body)).body.eventId).to.equal(deliveryEventId('gitea', 'g-2', 0));
    const tag = goScm('gitea', 'tag_create');
    const tb = buf(tag);
    const tr = await h.call('gitea', giteaHeaders(secrets.gitea, tb, 'create'), tb);
    expect(tr.body.ignored).to.equal(true); // Gitea's `create` event; the tag's push event builds it
  });

  it('pull_request: opened and synchronized from a fork build at the head, closed does not', async () => {
    const h = harness();
    for (const [name, builds] of [
      ['pull_request_opened', true],
      ['pull_request_synchronized', true],
      ['pull_request_closed', false],
    ] as const) {
      const p = goScm('gitea', name);
      if (p.pull_request.head.repo) p.pull_request.head.repo.full_name = 'contributor/my-repo';
      const body = buf(p);
      const res = await h.call('gitea', giteaHeaders(secrets.gitea, body, 'pull_request'), body);
      expect(res.status, name).to.equal(202);
      expect(Boolean(res.body.eventId), name).to.equal(builds);
      if (builds) expect(h.published.at(-1)!.data).to.deep.include({ forge: 'gitea', revision: p.pull_request.head.sha, cloneRef: `pull/${p.number}/head`, fork: true });
    }
  });
});

describe('webhook normalisation: Bitbucket Cloud and Server (go-scm test data)', () => {
  it('repo:push → git.push per change; the delivery id is X-Request-UUID, never X-Hook-UUID', async () => {
    const h = harness();
    const p = goScm('bitbucket', 'push');
    const body = buf(p);
    const headers: Record<string, string> = { ...bitbucketHeaders(secrets.bitbucket, body, 'repo:push', 'req-1'), 'x-hook-uuid': 'the-webhook' };
    const a = await h.call('bitbucket', headers, body);
    const b = await h.call('bitbucket', { ...bitbucketHeaders(secrets.bitbucket, body, 'repo:push', 'req-2'), 'x-hook-uuid': 'the-webhook' }, body);
    expect(a.body.eventId).to.equal(deliveryEventId('bitbucket', 'req-1', 0));
    expect(b.body.eventId).to.not.equal(a.body.eventId);
    expect(h.published[0]!.data).to.deep.include({ forge: 'bitbucket', repoSource: 'bitbucket.org', revision: p.push.changes[0].new.target.hash });
    const { 'x-request-uuid': _drop, ...hookOnly } = headers;
    expect((await h.call('bitbucket', hookOnly, body)).body.reason).to.match(/missing X-Request-UUID/);
    const tag = goScm('bitbucket', 'push_tag_create');
    const tb = buf(tag);
    await h.call('bitbucket', bitbucketHeaders(secrets.bitbucket, tb, 'repo:push'), tb);
    expect(h.published.at(-1)!.data.tag).to.equal(tag.push.changes[0].new.name);
    const del = buf(goScm('bitbucket', 'push_branch_delete'));
    expect((await h.call('bitbucket', bitbucketHeaders(secrets.bitbucket, del, 'repo:push'), del)).body.ignored).to.equal(true);
  });

  it('pullrequest:created/updated from a fork clone the fork at its branch; same repository and declined are ignored', async () => {
    const h = harness();
    const p = goScm('bitbucket', 'pr_created');
    const same = buf(p);
    expect((await h.call('bitbucket', bitbucketHeaders(secrets.bitbucket, same, 'pullrequest:created'), same)).body.reason).to.match(/repository itself/);
    const fork = structuredClone(p);
    fork.pullrequest.source.repository.full_name = 'contributor/foo';
    const fb = buf(fork);
    expect((await h.call('bitbucket', bitbucketHeaders(secrets.bitbucket, fb, 'pullrequest:created'), fb)).status).to.equal(202);
    expect(h.published[0]!.data).to.deep.include({
      forge: 'bitbucket',
      number: p.pullrequest.id,
      cloneUrl: 'https://bitbucket.org/contributor/foo.git',
      cloneRef: p.pullrequest.source.branch.name,
      revision: p.pullrequest.source.commit.hash,
    });
    const up = structuredClone(goScm('bitbucket', 'pr_updated'));
    up.pullrequest.source.repository.full_name = 'contributor/foo';
    const ub = buf(up);
    expect((await h.call('bitbucket', bitbucketHeaders(secrets.bitbucket, ub, 'pullrequest:updated'), ub)).body.eventId).to.be.a('string');
    const declined = buf(goScm('bitbucket', 'pr_declined'));
    expect((await h.call('bitbucket', bitbucketHeaders(secrets.bitbucket, declined, 'pullrequest:rejected'), declined)).body.ignored).to.equal(true);
  });

  it('Bitbucket Server repo:refs_changed (X-Request-Id) → git.push of forge bitbucket-server; the host from ?host= when the payload has no links', async () => {
    const h = harness();
    const p = goScm('stash', 'push');
    const body = buf(p);
    const { 'x-request-uuid': _u, ...rest } = bitbucketHeaders(secrets.bitbucket, body, 'repo:refs_changed');
    const headers = { ...rest, 'x-request-id': 'srv-1' };
    const res = await h.call('bitbucket', headers, body, 'host=bitbucket.example.com');
    expect(res.status).to.equal(202);
    expect(h.published[0]!.data).to.deep.include({
      forge: 'bitbucket-server',
      repoSource: 'bitbucket.example.com',
      repoOwner: 'PRJ',
      repoName: 'my-repo',
      branch: 'master',
      revision: p.changes[0].toHash,
      cloneUrl: 'https://bitbucket.example.com/scm/prj/my-repo.git',
    });
    expect(res.body.eventId).to.equal(deliveryEventId('bitbucket', 'srv-1', 0));
    const noHost = await h.call('bitbucket', headers, body);
    expect(noHost.status).to.equal(400);
    expect(noHost.body.message).to.match(/\?host=/);
    const tag = buf(goScm('stash', 'push_tag_create'));
    const { 'x-request-uuid': _t, ...tagRest } = bitbucketHeaders(secrets.bitbucket, tag, 'repo:refs_changed');
    await h.call('bitbucket', { ...tagRest, 'x-request-id': 'srv-2' }, tag, 'host=bitbucket.example.com');
    expect(h.published.at(-1)!.data.tag).to.be.a('string').and.not.equal('');
    const del = buf(goScm('stash', 'push_branch_delete'));
    const { 'x-request-uuid': _d, ...delRest } = bitbucketHeaders(secrets.bitbucket, del, 'repo:refs_changed');
    expect((await h.call('bitbucket', { ...delRest, 'x-request-id': 'srv-3' }, del, 'host=bitbucket.example.com')).body.ignored).to.equal(true);
  });
});
