import { expect } from 'chai';
import { makeHandler, type WebhookDeps } from '../../../functions/webhook-ingest/handler.ts';
import { repoFromUrl } from '../../../functions/webhook-ingest/forges/generic.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { toHttpResponse } from '../../../shared/errors/http-error.ts';
import { bitbucketHeaders, fixture, giteaHeaders, githubHeaders, gitlabHeaders } from '../../support/webhooks.ts';
import { recordingLogger } from '../../support/logger.ts';

const secrets = { github: 'gh-secret', bitbucket: 'bb-secret', gitlab: 'gl-token', gitea: 'gt-secret', generic: 'generic-token' };

function harness(overrides: Partial<WebhookDeps> = {}) {
  const published: Array<{ name: string; data: any; id: string }> = [];
  // Like JetStream's duplicate window: an id published before is dropped and reported as such.
  const ids = new Set<string>();
  const logs: string[] = [];
  const deps: WebhookDeps = {
    secrets,
    publish: async (name, data, id) => {
      if (ids.has(id)) return { duplicate: true };
      ids.add(id);
      published.push({ name, data, id });
      return { duplicate: false };
    },
    maxBodyBytes: 25 * 1024 * 1024,
    forkPullRequests: 'build',
    log: recordingLogger(logs),
    ...overrides,
  };
  const handler = makeHandler(deps);
  const call = async (path: string, headers: Record<string, string>, body: Buffer | string, method = 'POST') => {
    const req: HttpRequest = { method, path, query: new URLSearchParams(), headers, rawBody: Buffer.from(body), signal: new AbortController().signal };
    try {
      return await handler(req);
    } catch (err) {
      return toHttpResponse(err);
    }
  };
  return { published, logs, call };
}

const gh = '/api/integrations/github/events';

describe('webhook-ingest handler', () => {
  it('normalises a signed GitHub push into one git.push', async () => {
    const h = harness();
    const body = fixture('github-push.json');
    const res: any = await h.call(gh, githubHeaders(secrets.github, body, 'push', 'd-1'), body);
    expect(res.status).to.equal(202);
    expect(h.published).to.have.length(1);
    const e = h.published[0];
    expect(e.name).to.equal('git.push');
    expect(res.body.eventId).to.equal(e.id);
    expect(e.data).to.deep.include({
      forge: 'github',
      repoSource: 'github.com',
      repoOwner: 'estafette',
      repoName: 'estafette-ci-api',
      branch: 'main',
      revision: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
      cloneUrl: 'https://github.com/estafette/estafette-ci-api.git',
      deliveryId: 'd-1',
    });
    expect(e.data.commits[0]).to.deep.equal({
      id: '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c',
      message: 'Update README.md',
      author: { name: 'Jorrit Salverda', email: 'jsalverda@travix.com', username: 'JorritSalverda' },
    });
    expect(e.data.pusher.name).to.equal('JorritSalverda');
  });

  it('a tag push carries the tag and no branch', async () => {
    const h = harness();
    const p = JSON.parse(fixture('github-push.json').toString());
    p.ref = 'refs/tags/v1.2.3';
    const body = Buffer.from(JSON.stringify(p));
    await h.call(gh, githubHeaders(secrets.github, body), body);
    expect(h.published[0].data).to.include({ tag: 'v1.2.3', branch: '' });
  });

  it('dedupes by delivery id: a redelivery publishes nothing and answers with the same event id', async () => {
    const h = harness();
    const body = fixture('github-push.json');
    const a: any = await h.call(gh, githubHeaders(secrets.github, body, 'push', 'same'), body);
    const b: any = await h.call(gh, githubHeaders(secrets.github, body, 'push', 'same'), body);
    expect(h.published).to.have.length(1);
    expect(b.status).to.equal(202);
    expect(b.body).to.include({ duplicate: true, eventId: a.body.eventId });
  });

  it('does not remember a delivery whose publish failed (the forge retry is not lost)', async () => {
    let fail = true;
    const h = harness({
      publish: async () => {
        if (fail) throw new Error('bus down');
        return { duplicate: false };
      },
    });
    const body = fixture('github-push.json');
    const first: any = await h.call(gh, githubHeaders(secrets.github, body, 'push', 'retry-me'), body);
    expect(first.status).to.equal(500);
    expect(first.body.message).to.equal('internal error');
    fail = false;
    const second: any = await h.call(gh, githubHeaders(secrets.github, body, 'push', 'retry-me'), body);
    expect(second.body.duplicate).to.equal(undefined);
  });

  const body = fixture('github-push.json');
  const bad: Array<{ name: string; path?: string; headers: Record<string, string>; body: Buffer | string; status: number; message: RegExp; deps?: Partial<WebhookDeps> }> = [
    { name: 'missing signature', headers: { 'x-github-event': 'push', 'x-github-delivery': 'x' }, body, status: 401, message: /signature/ },
    { name: 'wrong signature', headers: githubHeaders('not-the-secret', body), body, status: 401, message: /signature/ },
    { name: 'signature of another body', headers: githubHeaders(secrets.github, Buffer.from('{}')), body, status: 401, message: /signature/ },
    { name: 'malformed JSON (validly signed)', headers: githubHeaders(secrets.github, Buffer.from('{"ref":')), body: '{"ref":', status: 400, message: /JSON/ },
    { name: 'JSON that is not an object', headers: githubHeaders(secrets.github, Buffer.from('[1]')), body: '[1]', status: 400, message: /object/ },
    {
      name: 'push without repository',
      headers: githubHeaders(secrets.github, Buffer.from('{"ref":"refs/heads/main","after":"abc"}')),
      body: '{"ref":"refs/heads/main","after":"abc"}',
      status: 400,
      message: /repository/,
    },
    { name: 'body over the limit', headers: githubHeaders(secrets.github, body), body, status: 413, message: /larger/, deps: { maxBodyBytes: 100 } },
    { name: 'forge not configured', headers: githubHeaders(secrets.github, body), body, status: 503, message: /GITHUB_WEBHOOK_SECRET/, deps: { secrets: { ...secrets, github: undefined } } },
    { name: 'unknown forge', path: '/api/integrations/svn/events', headers: {}, body, status: 404, message: /no route/ },
    { name: 'generic without token', path: '/api/integrations/generic/events', headers: {}, body: '{}', status: 401, message: /token/ },
    {
      name: 'generic with bad revision',
      path: '/api/integrations/generic/events',
      headers: { authorization: 'Bearer generic-token' },
      body: '{"repository":"file:///tmp/a/b","branch":"main","revision":"zzz"}',
      status: 400,
      message: /revision/,
    },
    {
      name: 'generic with bad branch',
      path: '/api/integrations/generic/events',
      headers: { authorization: 'Bearer generic-token' },
      body: '{"repository":"file:///tmp/a/b","branch":"a..b","revision":"abcdef1"}',
      status: 400,
      message: /branch/,
    },
    {
      name: 'generic with bad repository',
      path: '/api/integrations/generic/events',
      headers: { authorization: 'Bearer generic-token' },
      body: '{"repository":"not a url","branch":"main","revision":"abcdef1"}',
      status: 400,
      message: /repository/,
    },
    {
      name: 'generic missing fields (every one named)',
      path: '/api/integrations/generic/events',
      headers: { authorization: 'Bearer generic-token' },
      body: '{"revision":7}',
      status: 400,
      message: /^body is invalid: repository is required; branch is required; revision must be string$/,
    },
    {
      name: 'generic sent as text',
      path: '/api/integrations/generic/events',
      headers: { authorization: 'Bearer generic-token', 'content-type': 'text/plain' },
      body: '{}',
      status: 415,
      message: /content-type must be application\/json/,
    },
    { name: 'gitlab wrong token', path: '/api/integrations/gitlab/events', headers: gitlabHeaders('nope'), body: fixture('gitlab-push.json'), status: 401, message: /token/ },
    // A branch git would take for an option (`git fetch origin --upload-pack=…`) never becomes an event.
    {
      name: 'generic with an option for a branch',
      path: '/api/integrations/generic/events',
      headers: { authorization: 'Bearer generic-token' },
      body: '{"repository":"file:///tmp/a/b","branch":"--upload-pack=touch /tmp/pwned","revision":"abcdef1"}',
      status: 400,
      message: /branch/,
    },
    ...['--upload-pack=touch${IFS}/tmp/pwned', 'a..b', 'x@{1}', 'we ird', 'a.lock', 'tab\there', 'nul\u0000x'].map((branch) => {
      const b = Buffer.from(JSON.stringify({ ...JSON.parse(body.toString()), ref: `refs/heads/${branch}` }));
      return { name: `a GitHub push of branch ${JSON.stringify(branch)}`, headers: githubHeaders(secrets.github, b), body: b, status: 400, message: /branch is not a valid git ref name/ };
    }),
    ...(() => {
      const b = Buffer.from(JSON.stringify({ ...JSON.parse(fixture('gitlab-push.json').toString()), ref: 'refs/heads/-c' }));
      return [{ name: 'a GitLab push of branch "-c"', path: '/api/integrations/gitlab/events', headers: gitlabHeaders(secrets.gitlab), body: b, status: 400, message: /branch is not a valid git ref name/ }];
    })(),
  ];
  bad.forEach((c) =>
    it(`refuses ${c.name} with ${c.status} and publishes nothing`, async () => {
      const h = harness(c.deps);
      const res: any = await h.call(c.path ?? gh, c.headers, c.body);
      expect(res.status).to.equal(c.status);
      expect(res.body.status).to.equal(c.status);
      expect(res.body.message).to.match(c.message);
      expect(h.published).to.have.length(0);
    }),
  );

  const ignored: Array<[string, Record<string, string>, Buffer]> = [
    ['ping', githubHeaders(secrets.github, Buffer.from('{"zen":"hi"}'), 'ping'), Buffer.from('{"zen":"hi"}')],
    ['an unsupported event', githubHeaders(secrets.github, Buffer.from('{"action":"opened"}'), 'issues'), Buffer.from('{"action":"opened"}')],
    [
      'a branch deletion',
      githubHeaders(secrets.github, Buffer.from(JSON.stringify({ ...JSON.parse(body.toString()), after: '0'.repeat(40) }))),
      Buffer.from(JSON.stringify({ ...JSON.parse(body.toString()), after: '0'.repeat(40) })),
    ],
  ];
  ignored.forEach(([name, headers, b]) =>
    it(`answers 202 ignored for ${name}`, async () => {
      const h = harness();
      const res: any = await h.call(gh, headers, b);
      expect(res.status).to.equal(202);
      expect(res.body.ignored).to.equal(true);
      expect(h.published).to.have.length(0);
    }),
  );

  it('turns repository renamed/archived into pipeline events', async () => {
    const h = harness();
    const renamed = Buffer.from(
      JSON.stringify({ action: 'renamed', changes: { repository: { name: { from: 'old-name' } } }, repository: { full_name: 'estafette/new-name', html_url: 'https://github.com/estafette/new-name' } }),
    );
    await h.call(gh, githubHeaders(secrets.github, renamed, 'repository'), renamed);
    const archived = Buffer.from(JSON.stringify({ action: 'archived', repository: { full_name: 'estafette/new-name', html_url: 'https://github.com/estafette/new-name' } }));
    await h.call(gh, githubHeaders(secrets.github, archived, 'repository'), archived);
    expect(h.published.map((p) => [p.name, p.data])).to.deep.equal([
      ['pipeline.renamed', { repoSource: 'github.com', repoOwner: 'estafette', repoName: 'old-name', newRepoOwner: 'estafette', newRepoName: 'new-name' }],
      ['pipeline.archived', { repoSource: 'github.com', repoOwner: 'estafette', repoName: 'new-name', archived: true }],
    ]);
  });

  it('normalises GitLab, Bitbucket (one event per changed branch) and Gitea pushes', async () => {
    const h = harness();
    const gl = fixture('gitlab-push.json');
    await h.call('/api/integrations/gitlab/events', gitlabHeaders(secrets.gitlab), gl);
    const bb = fixture('bitbucket-push.json');
    await h.call('/api/integrations/bitbucket/events', bitbucketHeaders(secrets.bitbucket, bb), bb);
    const gt = fixture('github-push.json');
    await h.call('/api/integrations/gitea/events', giteaHeaders(secrets.gitea, gt), gt);
    expect(h.published.map((p) => `${p.data.forge} ${p.data.repoSource}/${p.data.repoOwner}/${p.data.repoName}@${p.data.branch}`)).to.deep.equal([
      'gitlab gitlab.example.com/mike/diaspora@develop',
      'bitbucket bitbucket.org/team/service@feature/login',
      'gitea github.com/estafette/estafette-ci-api@main',
    ]);
    expect(h.published[1].data.commits[0].author).to.deep.equal({ name: 'Jane Doe', email: 'jane@example.com' });
  });

  it('answers GET …/status per forge', async () => {
    const h = harness({ secrets: { github: 'x' } });
    const res: any = await h.call('/api/integrations/github/status', {}, '', 'GET');
    expect(res.body).to.deep.equal({ status: 'ok', forge: 'github', configured: true });
    const res2: any = await h.call('/api/integrations/gitea/status', {}, '', 'GET');
    expect(res2.body.configured).to.equal(false);
  });

  const urls: Array<[string, string]> = [
    ['https://github.com/estafette/estafette-ci-api.git', 'github.com/estafette/estafette-ci-api'],
    ['git@github.com:estafette/builder.git', 'github.com/estafette/builder'],
    ['https://gitlab.com/group/sub/project', 'gitlab.com/group/sub/project'],
    ['file:///tmp/work/demo', 'local/work/demo'],
    ['/srv/git/team/app.git', 'local/team/app'],
  ];
  urls.forEach(([url, want]) =>
    it(`derives the pipeline name from ${url}`, () => {
      const r = repoFromUrl(url);
      expect(`${r.repoSource}/${r.repoOwner}/${r.repoName}`).to.equal(want);
    }),
  );
});
