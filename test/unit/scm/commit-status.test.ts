/**
 * Commit status requests of each forge: the documented path, the state each job status maps
 * to, the fields; GitHub's checked against its published OpenAPI description for every state.
 */
import { expect } from 'chai';
import { commitStatusRequest, REPORTED_STATUSES, sendCommitStatus, type CommitStatus } from '../../../shared/scm/statuses/commit-status.ts';
import { ForgeEndpoints } from '../../../shared/scm/endpoints.ts';
import { githubContractProblems } from '../../support/github-openapi.ts';
import { FakeForge } from '../../support/fake-forge.ts';

const repo = { repoSource: 'example.com', repoOwner: 'team', repoName: 'app', cloneUrl: 'https://example.com/team/app.git' };
const sha = 'a'.repeat(40);
const status = (s: CommitStatus['status']): CommitStatus => ({ status: s, context: 'estafette/app', description: `Build #1 (1.0.1) ${s}`, targetUrl: 'https://ci.example.com/pipelines/example.com/team/app/builds/1' });

describe('commit status requests', () => {
  REPORTED_STATUSES.forEach((s) =>
    it(`GitHub ${s}: POST /repos/{owner}/{repo}/statuses/{sha}, valid by GitHub's OpenAPI`, () => {
      const r = commitStatusRequest('github', 'https://api.github.com', repo, sha, status(s));
      const u = new URL(r.url);
      expect(githubContractProblems({ method: r.method, path: u.pathname, query: u.searchParams, headers: r.headers, body: r.body })).to.deep.equal([]);
      expect(r.body).to.deep.include({ context: 'estafette/app', target_url: status(s).targetUrl });
    }),
  );

  const table: Array<{ forge: Parameters<typeof commitStatusRequest>[0]; api: string; path: string; states: string[]; keys: string[] }> = [
    {
      forge: 'gitlab',
      api: 'https://gitlab.example.com/api/v4',
      path: `/api/v4/projects/team%2Fapp/statuses/${sha}`,
      states: ['pending', 'running', 'success', 'failed', 'canceled'],
      keys: ['state', 'name', 'target_url', 'description'],
    },
    {
      forge: 'gitea',
      api: 'https://gitea.example.com/api/v1',
      path: `/api/v1/repos/team/app/statuses/${sha}`,
      states: ['pending', 'pending', 'success', 'failure', 'error'],
      keys: ['state', 'target_url', 'description', 'context'],
    },
    {
      forge: 'bitbucket',
      api: 'https://api.bitbucket.org/2.0',
      path: `/2.0/repositories/team/app/commit/${sha}/statuses/build`,
      states: ['INPROGRESS', 'INPROGRESS', 'SUCCESSFUL', 'FAILED', 'STOPPED'],
      keys: ['key', 'state', 'name', 'url', 'description'],
    },
    {
      forge: 'bitbucket-server',
      api: 'https://bitbucket.example.com',
      path: `/rest/build-status/1.0/commits/${sha}`,
      states: ['INPROGRESS', 'INPROGRESS', 'SUCCESSFUL', 'FAILED', 'FAILED'],
      keys: ['key', 'state', 'name', 'url', 'description'],
    },
  ];
  table.forEach((t) =>
    it(`${t.forge}: POST ${t.path.replace(sha, '{sha}')} with states ${t.states.join(', ')}`, () => {
      REPORTED_STATUSES.forEach((s, i) => {
        const r = commitStatusRequest(t.forge, t.api, repo, sha, status(s));
        expect([r.method, new URL(r.url).pathname]).to.deep.equal(['POST', t.path]);
        expect(Object.keys(r.body as object)).to.have.members(t.keys);
        expect((r.body as { state: string }).state).to.equal(t.states[i]);
      });
    }),
  );

  it("GitLab's refusal to set a state the commit already has counts as sent; other refusals throw with the forge's status", async () => {
    const forge = await new FakeForge().start();
    try {
      const access = new ForgeEndpoints({ hosts: { 'gitlab.example.com': { forge: 'gitlab', apiUrl: `${forge.url}/api/v4`, token: 't' } }, timeoutMs: 2000 }).access({ ...repo, repoSource: 'gitlab.example.com' })!;
      forge.fail(/statuses/, { status: 400, message: 'Cannot transition status via :run from :running' }, 1);
      await sendCommitStatus(access, repo, sha, status('running'), 2000);
      forge.fail(/statuses/, { status: 403, message: 'Forbidden' }, 1);
      const err = await sendCommitStatus(access, repo, sha, status('running'), 2000).catch((e: unknown) => e);
      expect((err as { status: number }).status).to.equal(403);
      expect((err as Error).message).to.match(/POST .*\/statuses\/a+ answered 403: Forbidden/);
    } finally {
      await forge.stop();
    }
  });
});
