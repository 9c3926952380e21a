import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { localScm } from '../../../shared/scm/local.ts';
import { scmRouter } from '../../../shared/scm/select.ts';
import { ForgeEndpoints } from '../../../shared/scm/endpoints.ts';
import { parseForgeCredentials } from '../../../shared/scm/credentials.ts';
import type { ScmSettings } from '../../../shared/config/config.ts';
import { ConfigError } from '../../../shared/errors/http-error.ts';
import { freePort } from '../../../cli/start/database.ts';
import { ScmError } from '../../../shared/scm/provider.ts';
import { ManifestEncodingError } from '../../../shared/manifest/text.ts';
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

describe('ScmProvider: forge APIs per host (endpoints.ts)', () => {
  let server: Server;
  let url = '';
  const seen: Array<{ url?: string; headers: Record<string, unknown> }> = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, headers: req.headers });
      if (req.url?.startsWith('/repos/estafette/api/contents/.estafette.yaml?ref=abc')) return res.end('stages: {}\n');
      if (req.url === '/repos/estafette/none') return res.end('{"full_name":"estafette/none"}');
      if (req.url?.startsWith('/repos/estafette/latin1/contents/.estafette.yaml')) return res.end(Buffer.from('stages:\n  caf\xe9:\n    image: alpine\n', 'latin1'));
      if (req.url?.startsWith('/repos/estafette/utf8/contents/.estafette.yaml')) return res.end(Buffer.from('stages:\n  café:\n    image: alpine\n', 'utf8'));
      if (req.url?.startsWith('/repos/estafette/broken/')) return res.writeHead(502).end('{"message":"Bad Gateway"}');
      res.writeHead(404).end('{"message":"Not Found"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as any).port}`;
  });
  after(() => server.close());
  const settings = (over: Partial<ScmSettings> = {}): ScmSettings => ({ hosts: {}, timeoutMs: 2000, ...over });
  const loc = (name: string, source = 'github.com') => ({ repoSource: source, repoOwner: 'estafette', repoName: name, cloneUrl: `https://${source}/estafette/${name}.git`, forge: 'github' });

  it('fetches the raw manifest with the token at the revision', async () => {
    const text = await scmRouter(new ForgeEndpoints(settings({ githubApiUrl: url, githubToken: 'tok' }))).getManifest(loc('api'), 'abc');
    expect(text).to.equal('stages: {}\n');
    expect(seen.at(-1)!.headers.authorization).to.equal('Bearer tok');
    expect(seen.at(-1)!.headers.accept).to.contain('raw');
  });

  it('404 of the file with the repository there → no manifest; repository missing → ScmError 404; 5xx → ScmError with the status and message', async () => {
    const scm = scmRouter(new ForgeEndpoints(settings({ githubApiUrl: url })));
    expect(await scm.getManifest(loc('none'), 'abc')).to.equal(undefined);
    const gone = await scm.getManifest(loc('gone'), 'abc').catch((e: unknown) => e);
    expect(gone).to.be.instanceOf(ScmError);
    expect((gone as ScmError).message).to.match(/repository estafette\/gone not found .* without credentials/);
    const err = await scm.getManifest(loc('broken'), 'abc').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ScmError);
    expect((err as ScmError).status).to.equal(502);
    expect((err as ScmError).message).to.match(/answered 502: Bad Gateway/);
  });

  it('decodes the manifest as strict UTF-8: other bytes are a ManifestEncodingError saying where, never silently replaced', async () => {
    const scm = scmRouter(new ForgeEndpoints(settings({ githubApiUrl: url })));
    expect(await scm.getManifest(loc('utf8'), 'abc')).to.equal('stages:\n  café:\n    image: alpine\n');
    const err = await scm.getManifest(loc('latin1'), 'abc').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ManifestEncodingError);
    expect((err as Error).message).to.equal('the manifest is not valid UTF-8 text (an invalid byte sequence at line 2, column 6)');
  });

  it('a failed connection keeps its cause', async () => {
    const port = await freePort();
    const err = await scmRouter(new ForgeEndpoints(settings({ githubApiUrl: `http://127.0.0.1:${port}` })))
      .getManifest(loc('api'), 'abc')
      .catch((e: unknown) => e);
    expect((err as ScmError).status).to.equal(0);
    expect((err as ScmError).message).to.contain(`failed: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  const derived: Array<[string, string, string]> = [
    ['github', 'github.com', 'https://api.github.com'],
    ['github', 'ghe.example.com', 'https://ghe.example.com/api/v3'],
    ['gitlab', 'gitlab.example.com', 'https://gitlab.example.com/api/v4'],
    ['gitea', 'codeberg.org', 'https://codeberg.org/api/v1'],
    ['bitbucket', 'bitbucket.org', 'https://api.bitbucket.org/2.0'],
    ['bitbucket-server', 'git.example.com:7990', 'https://git.example.com:7990'],
  ];
  derived.forEach(([forge, host, api]) => it(`${forge} on ${host} → ${api}`, () => expect(new ForgeEndpoints(settings()).access({ ...loc('x', host), forge })!.apiUrl).to.equal(api)));

  it('per-host entries win over global settings, which apply only to the public host or their own API URL', async () => {
    const e = new ForgeEndpoints(settings({ githubToken: 'global', hosts: { 'ghe.example.com': { token: 'ghe', apiUrl: 'http://ghe.internal/api/v3' } } }));
    expect(await e.access(loc('x'))!.headers()).to.deep.equal({ authorization: 'Bearer global' });
    const ghe = e.access(loc('x', 'ghe.example.com'))!;
    expect(ghe.apiUrl).to.equal('http://ghe.internal/api/v3');
    expect(await ghe.headers()).to.deep.equal({ authorization: 'Bearer ghe' });
    const other = e.access(loc('x', 'other.example.com'))!;
    expect(other.authenticated).to.equal(false);
    expect(await other.headers()).to.deep.equal({});
    const overridden = new ForgeEndpoints(settings({ githubApiUrl: 'http://one/api', githubToken: 'global' })).access(loc('x', 'other.example.com'))!;
    expect([overridden.apiUrl, (await overridden.headers()).authorization]).to.deep.equal(['http://one/api', 'Bearer global']);
    const gl = new ForgeEndpoints(settings({ hosts: { 'gitlab.example.com': { token: 'glpat' } } })).access({ ...loc('x', 'gitlab.example.com'), forge: 'gitlab' })!;
    expect(await gl.headers()).to.deep.equal({ 'private-token': 'glpat' });
    expect(await gl.cloneCredentials()).to.deep.equal({ username: 'oauth2', password: 'glpat' });
    expect(new ForgeEndpoints(settings()).access({ ...loc('x', 'git.example.com'), forge: 'generic' })).to.equal(undefined);
  });

  it('ESTAFETTE_FORGE_CREDENTIALS: parsed, and every bad entry is a ConfigError naming it', () => {
    expect(parseForgeCredentials('{"GHE.example.com":{"token":"t","forge":"github"}}')).to.deep.equal({ 'ghe.example.com': { forge: 'github', token: 't' } });
    for (const [raw, msg] of [
      ['[1]', /JSON object/],
      ['{"a b":{}}', /not a host name/],
      ['{"h":{"tokn":"x"}}', /unknown field 'tokn'/],
      ['{"h":{"username":"u"}}', /both username and password/],
      ['{"h":{"forge":"svn"}}', /forge must be/],
    ] as const)
      expect(() => parseForgeCredentials(raw), raw).to.throw(ConfigError, msg);
  });
});
