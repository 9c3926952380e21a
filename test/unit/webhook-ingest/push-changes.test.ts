/**
 * What a push changed, as webhook-ingest reads it from each forge (before revision, changed
 * files only when the payload's list is complete), the generic webhook's optional `before`, and
 * `?wait=`: the answer carries build-dispatch's outcome (the build, or why nothing was built)
 * when it arrives in time, says which are still pending when it does not, and refuses bad values.
 */
import { expect } from 'chai';
import { makeHandler, type WebhookDeps } from '../../../functions/webhook-ingest/handler.ts';
import { listedPushChanges } from '../../../functions/webhook-ingest/forges/push-changes.ts';
import { MemoryDispatchOutcomes } from '../../../shared/bus/dispatch-outcomes.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { toHttpResponse } from '../../../shared/errors/http-error.ts';
import { bitbucketHeaders, fixture, githubHeaders, gitlabHeaders } from '../../support/webhooks.ts';
import { recordingLogger } from '../../support/logger.ts';

const secrets = { github: 'gh-secret', bitbucket: 'bb-secret', gitlab: 'gl-token', gitea: 'gt-secret', generic: 'generic-token' };
const SHA = (c: string) => c.repeat(40);

function harness(overrides: Partial<WebhookDeps> = {}, onPublish?: (id: string, data: any) => void) {
  const published: Array<{ name: string; data: any; id: string }> = [];
  const logs: string[] = [];
  const handler = makeHandler({
    secrets,
    publish: async (name, data, id) => {
      const dup = published.some((p) => p.id === id);
      if (!dup) {
        published.push({ name, data, id });
        onPublish?.(id, data);
      }
      return { duplicate: dup };
    },
    maxBodyBytes: 25 * 1024 * 1024,
    forkPullRequests: 'build',
    log: recordingLogger(logs),
    ...overrides,
  });
  const call = async (path: string, headers: Record<string, string>, body: Buffer | string): Promise<any> => {
    const [p, q] = path.split('?');
    const req: HttpRequest = { method: 'POST', path: p!, query: new URLSearchParams(q ?? ''), headers, rawBody: Buffer.from(body), signal: new AbortController().signal };
    try {
      return await handler(req);
    } catch (err) {
      return toHttpResponse(err);
    }
  };
  return { published, logs, call };
}

const githubWith = (edit: (p: any) => void): Buffer => {
  const p = JSON.parse(fixture('github-push.json').toString());
  edit(p);
  return Buffer.from(JSON.stringify(p));
};

describe('webhook-ingest: what a push changed', () => {
  const cases: Array<{ name: string; body: Buffer; want: { before?: string; changedFiles?: string[] } }> = [
    {
      name: 'GitHub: the union of the commits’ added/modified/removed, sorted',
      body: githubWith((p) => {
        p.commits = [
          { ...p.commits[0], added: ['services/api/new.go'], modified: ['README.md'], removed: [] },
          { ...p.commits[0], added: [], modified: ['README.md'], removed: ['docs/old.md'] },
        ];
      }),
      want: { before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246', changedFiles: ['README.md', 'docs/old.md', 'services/api/new.go'] },
    },
    { name: 'GitHub: a new branch has no before (everything builds)', body: githubWith((p) => ((p.created = true), (p.before = SHA('0')))), want: {} },
    { name: 'GitHub: a forced push gives only the before revision', body: githubWith((p) => (p.forced = true)), want: { before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246' } },
    {
      name: 'GitHub: commits without file lists give only the before revision',
      body: githubWith((p) => (p.commits = [{ id: 'a', message: 'm', author: { name: 'n', email: 'e' } }])),
      want: { before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246' },
    },
    { name: 'GitHub: a list at the cap may be cut short', body: githubWith((p) => (p.commits = Array.from({ length: 2048 }, () => p.commits[0]))), want: { before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246' } },
    { name: 'Gitea: total_commits above the listed ones', body: githubWith((p) => (p.total_commits = 30)), want: { before: '6113728f27ae82c7b1a177c8d03f9e96e0adf246' } },
  ];
  cases.forEach((c) =>
    it(c.name, async () => {
      const h = harness();
      const res = await h.call('/api/integrations/github/events', githubHeaders(secrets.github, c.body), c.body);
      expect(res.status).to.equal(202);
      const d = h.published[0]!.data;
      expect({ ...(d.before ? { before: d.before } : {}), ...(d.changedFiles ? { changedFiles: d.changedFiles } : {}) }).to.deep.equal(c.want);
    }),
  );

  it('GitLab: files only when total_commits_count matches the listed commits', () => {
    const p = JSON.parse(fixture('gitlab-push.json').toString());
    p.commits[0].added = ['a.go'];
    p.commits[0].modified = [];
    p.commits[0].removed = ['b.go'];
    expect(listedPushChanges(p, p.total_commits_count === p.commits.length)).to.deep.equal({ before: p.before, changedFiles: ['a.go', 'b.go'] });
    expect(listedPushChanges(p, false)).to.deep.equal({ before: p.before });
  });

  it('GitLab and Bitbucket pushes carry their before revision', async () => {
    const h = harness();
    const gl = fixture('gitlab-push.json');
    await h.call('/api/integrations/gitlab/events', gitlabHeaders(secrets.gitlab), gl);
    const bb = fixture('bitbucket-push.json');
    await h.call('/api/integrations/bitbucket/events', bitbucketHeaders(secrets.bitbucket, bb), bb);
    expect(h.published[0]!.data.before).to.equal(JSON.parse(gl.toString()).before);
    expect(h.published[0]!.data.changedFiles).to.equal(undefined);
    expect(h.published[1]!.data.before).to.equal('1e65c05c1d5171631d92438a13901ca7dae9618c');
  });

  it('the generic webhook takes an optional before revision and refuses a bad one', async () => {
    const h = harness();
    const auth = { authorization: 'Bearer generic-token', 'content-type': 'application/json' };
    const body = (extra: object) => JSON.stringify({ repository: 'file:///srv/team/app', branch: 'main', revision: SHA('b'), ...extra });
    expect((await h.call('/api/integrations/generic/events', auth, body({ before: SHA('A') }))).status).to.equal(202);
    expect(h.published[0]!.data.before).to.equal(SHA('a'));
    expect((await h.call('/api/integrations/generic/events', auth, body({}))).status).to.equal(202);
    expect(h.published[1]!.data).to.not.have.property('before');
    const bad = await h.call('/api/integrations/generic/events', auth, body({ before: 'HEAD~1' }));
    expect(bad.status).to.equal(400);
    expect(bad.body.message).to.match(/'before' must be a commit sha/);
  });
});

describe('webhook-ingest: ?wait= for what build-dispatch made of the push', () => {
  const auth = { authorization: 'Bearer generic-token', 'content-type': 'application/json' };
  const body = JSON.stringify({ repository: 'file:///srv/team/app', branch: 'main', revision: SHA('c'), before: SHA('d') });

  it('answers with the outcome dispatch published for the event', async () => {
    const outcomes = new MemoryDispatchOutcomes();
    // A stand-in for build-dispatch answering as soon as the event is published.
    const h = harness({ outcomes: async () => outcomes }, (id) =>
      setTimeout(() => outcomes.publish({ eventId: id, outcome: 'skipped', reason: 'push of x builds nothing: no changed file matches paths [services/**]' }), 20),
    );
    const res = await h.call('/api/integrations/generic/events?wait=5', auth, body);
    expect(res.status).to.equal(202);
    expect(res.body.dispatch).to.deep.equal([{ eventId: res.body.eventId, outcome: 'skipped', reason: 'push of x builds nothing: no changed file matches paths [services/**]' }]);
    expect(h.logs.join('\n')).to.match(/push builds nothing: push of x builds nothing/);
  });

  it('says which outcomes did not arrive in time', async () => {
    const h = harness({ outcomes: async () => new MemoryDispatchOutcomes() });
    const res = await h.call('/api/integrations/generic/events?wait=0.1', auth, body);
    expect(res.body.dispatch).to.deep.equal([]);
    expect(res.body.dispatchPending).to.deep.equal([res.body.eventId]);
  });

  it('without ?wait= it answers at once, as before', async () => {
    const h = harness({ outcomes: async () => new MemoryDispatchOutcomes() });
    const res = await h.call('/api/integrations/generic/events', auth, body);
    expect(res.body).to.have.keys(['eventId', 'eventIds']);
  });

  it('refuses a wait that is not a number of seconds within the limit', async () => {
    const h = harness({ outcomes: async () => new MemoryDispatchOutcomes(), maxWaitSeconds: 10 });
    for (const w of ['abc', '-1', '11']) {
      const res = await h.call(`/api/integrations/generic/events?wait=${w}`, auth, body);
      expect(res.status, w).to.equal(400);
      expect(res.body.message).to.match(/wait must be a number of seconds from 0 to 10/);
    }
    expect(h.published).to.have.length(0);
  });
});
