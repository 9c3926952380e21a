import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { localScm } from '../../../shared/scm/local.ts';
import { githubScm } from '../../../shared/scm/http-providers.ts';
import { ScmError } from '../../../shared/scm/provider.ts';
import { tempRepo, type TempRepo } from '../../support/git-repo.ts';

describe('ScmProvider: local', () => {
  let repo: TempRepo;
  before(() => (repo = tempRepo('scm-local')));
  after(() => repo.remove());

  it('reads the manifest at a revision, not the working tree', async () => {
    const first = repo.commit({ '.estafette.yaml': 'stages:\n  a:\n    image: alpine:3\n' });
    repo.commit({ '.estafette.yaml': 'stages:\n  b:\n    image: alpine:3\n' });
    const loc = { repoSource: 'local', repoOwner: 'owner', repoName: 'scm-local', cloneUrl: `file://${repo.dir}` };
    expect(await localScm.getManifest(loc, first)).to.contain('a:');
    expect(await localScm.getManifest({ ...loc, cloneUrl: repo.dir }, repo.head())).to.contain('b:');
  });

  it('answers undefined when the revision has no manifest, and a 404 ScmError for an unknown revision', async () => {
    const rev = repo.commit({ 'README.md': 'x', '.estafette.yaml': '' });
    repo.commit({ 'x.txt': '1' });
    const loc = { repoSource: 'local', repoOwner: 'owner', repoName: 'scm-local', cloneUrl: repo.dir };
    const none = tempRepo('no-manifest');
    const r2 = none.commit({ 'README.md': 'hi' });
    expect(await localScm.getManifest({ ...loc, cloneUrl: none.dir }, r2)).to.equal(undefined);
    none.remove();
    expect(rev).to.match(/^[0-9a-f]{40}$/);
    const err = await localScm.getManifest(loc, 'f'.repeat(40)).catch((e) => e);
    expect(err).to.be.instanceOf(ScmError);
    expect(err.status).to.equal(404);
  });
});

describe('ScmProvider: github contents API', () => {
  let server: Server;
  let url = '';
  const seen: Array<{ url?: string; headers: Record<string, unknown> }> = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, headers: req.headers });
      if (req.url?.startsWith('/repos/estafette/api/contents/.estafette.yaml?ref=abc')) return res.end('stages: {}\n');
      if (req.url?.startsWith('/repos/estafette/broken/')) return res.writeHead(502).end();
      res.writeHead(404).end('{"message":"Not Found"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as any).port}`;
  });
  after(() => server.close());

  it('fetches the raw manifest with the token at the revision', async () => {
    const scm = githubScm(url, 'tok');
    const text = await scm.getManifest({ repoSource: 'github.com', repoOwner: 'estafette', repoName: 'api', cloneUrl: 'https://github.com/estafette/api.git' }, 'abc');
    expect(text).to.equal('stages: {}\n');
    expect(seen[0].headers.authorization).to.equal('Bearer tok');
    expect(seen[0].headers.accept).to.contain('raw');
  });

  it('404 → no manifest; 5xx → retryable ScmError', async () => {
    const scm = githubScm(url);
    expect(await scm.getManifest({ repoSource: 'github.com', repoOwner: 'estafette', repoName: 'none', cloneUrl: '' }, 'abc')).to.equal(undefined);
    const err = await scm.getManifest({ repoSource: 'github.com', repoOwner: 'estafette', repoName: 'broken', cloneUrl: '' }, 'abc').catch((e) => e);
    expect(err).to.be.instanceOf(ScmError);
    expect(err.status).to.equal(502);
  });
});
