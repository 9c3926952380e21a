/**
 * Sign-in and roles over real HTTP: the OAuth2/OIDC and GitHub flows against an in-test provider
 * speaking the wire protocol (authorize redirect, token endpoint, userinfo), the session cookie,
 * API-client login, and the role + CSRF check of every mutating route.
 */
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signJobToken } from '../../../shared/auth/job-token.ts';
import { signSession, type Identity } from '../../../shared/auth/session.ts';
import type { AuthSettings } from '../../../shared/auth/settings.ts';
import { createRelease } from '../../../shared/db/releases.ts';
import { get, JWT_KEY, seed, startHarness, type Harness } from './harness.ts';

/** A fake identity provider: records token requests, answers userinfo for issued tokens. */
async function fakeProvider() {
  const tokenRequests: Record<string, string>[] = [];
  const users: Record<string, Record<string, unknown>> = {
    'code-ops': { email: 'olga@example.com', name: 'Olga', groups: ['ops'], email_verified: true },
    'code-admin': { email: 'Admin@Example.com', name: 'Ada', groups: [] },
    'code-unverified': { email: 'eve@example.com', email_verified: false },
    'gh-code': { login: 'octo', name: null, email: null },
  };
  const body = (req: IncomingMessage) =>
    new Promise<string>((r) => {
      let s = '';
      req.on('data', (c) => (s += c));
      req.on('end', () => r(s));
    });
  const server: Server = createServer(async (req, res) => {
    const send = (status: number, v: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    const url = new URL(req.url!, 'http://x');
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (req.method === 'POST' && (url.pathname === '/token' || url.pathname === '/gh/token')) {
      const form = Object.fromEntries(new URLSearchParams(await body(req)));
      tokenRequests.push(form);
      if (form.client_secret !== 'provider-secret' || form.grant_type !== 'authorization_code' || !users[form.code!]) return send(400, { error: 'invalid_grant' });
      return send(200, { access_token: `at-${form.code}`, token_type: 'bearer' });
    }
    const user = users[token.replace(/^at-/, '')];
    if (!user) return send(401, { message: 'Bad credentials' });
    if (url.pathname === '/userinfo' || url.pathname === '/gh/user') return send(200, user);
    if (url.pathname === '/gh/user/emails')
      return send(200, [
        { email: 'old@example.com', primary: false, verified: true },
        { email: 'octo@example.com', primary: true, verified: true },
      ]);
    if (url.pathname === '/gh/user/orgs') return send(200, [{ login: 'estafette' }]);
    send(404, {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokenRequests, close: () => new Promise((r) => server.close(r)) };
}

describe('query-api sign-in and roles (HTTP, PostgreSQL)', function () {
  this.timeout(60_000);
  let h: Harness;
  let idp: Awaited<ReturnType<typeof fakeProvider>>;
  const BASE = 'https://ci.example.com';
  let ids: { running: string; pendingRelease: string };

  before(async function () {
    idp = await fakeProvider();
    const auth: AuthSettings = {
      enabled: true,
      jwtKey: JWT_KEY,
      baseUrl: BASE,
      providers: [
        { name: 'corp', kind: 'oidc', label: 'Corp SSO', clientId: 'estafette', clientSecret: 'provider-secret', authorizeUrl: `${idp.url}/authorize`, tokenUrl: `${idp.url}/token`, userInfoUrl: `${idp.url}/userinfo` },
        { name: 'github', kind: 'github', clientId: 'gh-app', clientSecret: 'provider-secret', authorizeUrl: `${idp.url}/gh/authorize`, tokenUrl: `${idp.url}/gh/token`, userInfoUrl: `${idp.url}/gh/user` },
      ],
      clients: [{ id: 'deploy-bot', secret: 'bot-secret', role: 'operator' }],
      roles: { emails: { 'admin@example.com': 'administrator' }, groups: { ops: 'operator' }, defaultRole: 'viewer' },
    };
    h = await startHarness(this, { auth });
    const { pipeline, builds } = await seed(h.pool, 'guarded', [
      { status: 'succeeded', version: '1.0.0' },
      { status: 'running', version: '1.0.1' },
    ]);
    const { release } = await createRelease(h.pool, { pipelineId: pipeline.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'guarded', name: 'production', version: '1.0.0' });
    ids = { running: builds[1]!.id, pendingRelease: release.id };
  });
  after(async () => {
    await h?.stop();
    await idp?.close();
  });

  const api = (path: string) => `${h.apiUrl}${path}`;
  const cookieOf = (res: { headers: Headers }, name: string) => res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  const cookiePair = (setCookie: string) => setCookie.split(';')[0]!;

  /** Runs the browser's part of the flow: login redirect, the provider sends the user back with `code`. */
  async function signIn(provider: string, code: string, returnURL = '/pipelines') {
    const login = await get(api(`/api/auth/login/${provider}?returnURL=${encodeURIComponent(returnURL)}`));
    const to = new URL(login.headers.get('location')!);
    const loginCookie = cookieOf(login, 'estafette_login')!;
    const callback = await get(api(`/api/auth/handle/${provider}?code=${code}&state=${to.searchParams.get('state')}`), { cookie: cookiePair(loginCookie) });
    return { login, to, loginCookie, callback };
  }

  it('OIDC: authorize redirect, code exchange, userinfo → 8 h session cookie; /api/me says who and which role', async () => {
    const { login, to, loginCookie, callback } = await signIn('corp', 'code-ops');
    expect(login.status).to.equal(302);
    expect(`${to.origin}${to.pathname}`).to.equal(`${idp.url}/authorize`);
    expect(Object.fromEntries(to.searchParams)).to.deep.include({ response_type: 'code', client_id: 'estafette', redirect_uri: `${BASE}/api/auth/handle/corp`, scope: 'openid email profile' });
    expect(to.searchParams.get('state')).to.have.length.greaterThan(20);
    expect(loginCookie).to.match(/; HttpOnly; SameSite=Lax; Secure$/);
    expect(callback.status).to.equal(302);
    expect(callback.headers.get('location')).to.equal('/pipelines');
    const session = cookieOf(callback, 'estafette_session')!;
    expect(session).to.match(/^estafette_session=[^;]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax; Secure$/);
    expect(cookieOf(callback, 'estafette_login')).to.match(/Max-Age=0/);
    expect(idp.tokenRequests.at(-1)).to.deep.equal({ grant_type: 'authorization_code', code: 'code-ops', redirect_uri: `${BASE}/api/auth/handle/corp`, client_id: 'estafette', client_secret: 'provider-secret' });
    const me = await get(api('/api/me'), { cookie: cookiePair(session) });
    // Estafette's User (user.go) with our fields beside it.
    expect(me.body).to.deep.equal({
      id: 'olga@example.com',
      active: true,
      identities: [{ provider: 'corp', id: 'olga@example.com', email: 'olga@example.com', name: 'Olga' }],
      roles: ['operator'],
      groups: [{ name: 'ops' }],
      currentProvider: 'corp',
      email: 'olga@example.com',
      name: 'Olga',
      authenticated: true,
      user: { email: 'olga@example.com', name: 'Olga' },
      role: 'operator',
      authEnabled: true,
    });
    const admin = await signIn('corp', 'code-admin');
    expect((await get(api('/api/me'), { cookie: cookiePair(cookieOf(admin.callback, 'estafette_session')!) })).body.role).to.equal('administrator');
  });

  it('GitHub: private email from /user/emails, orgs as groups', async () => {
    const { to, callback } = await signIn('github', 'gh-code');
    expect(to.searchParams.get('scope')).to.equal('read:user user:email read:org');
    const me = await get(api('/api/me'), { cookie: cookiePair(cookieOf(callback, 'estafette_session')!) });
    expect(me.body).to.deep.include({ authenticated: true, user: { email: 'octo@example.com', name: 'octo' }, role: 'viewer' });
  });

  it('refuses a callback without its login cookie, with another state, a bad code, an unverified email; no open redirect', async () => {
    const login = await get(api('/api/auth/login/corp'));
    const state = new URL(login.headers.get('location')!).searchParams.get('state');
    const cookie = cookiePair(cookieOf(login, 'estafette_login')!);
    const cases: Array<[string, Record<string, string>, number, RegExp]> = [
      [`/api/auth/handle/corp?code=code-ops&state=${state}`, {}, 400, /start again/],
      [`/api/auth/handle/corp?code=code-ops&state=forged`, { cookie }, 400, /start again/],
      [`/api/auth/handle/github?code=gh-code&state=${state}`, { cookie }, 400, /start again/],
      [`/api/auth/handle/corp?code=stolen&state=${state}`, { cookie }, 401, /corp refused the sign-in: invalid_grant/],
      [`/api/auth/handle/corp?code=code-unverified&state=${state}`, { cookie }, 403, /not verified/],
      [`/api/auth/handle/corp?error=access_denied`, { cookie }, 401, /access_denied/],
      [`/api/auth/handle/corp?state=${state}`, { cookie }, 400, /code and state are required/],
      ['/api/auth/login/nope', {}, 404, /no sign-in provider 'nope'/],
    ];
    for (const [path, headers, status, message] of cases) {
      const r = await get(api(path), headers);
      expect([r.status, r.body?.message], path).to.satisfy(([s, m]: [number, string]) => s === status && message.test(m));
      expect(cookieOf(r, 'estafette_session'), path).to.equal(undefined);
    }
    // '/\t/evil.example' is what `?returnURL=/%09/evil.example` decodes to: browsers drop the tab from a Location.
    for (const evil of [
      '//evil.example',
      'https://evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      '/%09/evil.example',
      '/\n/evil.example',
      '/%2F/evil.example',
      '/%5Cevil.example',
      '/..//evil.example',
      '/./\\evil.example',
    ]) {
      expect((await signIn('corp', 'code-ops', evil)).callback.headers.get('location')).to.equal('/');
    }
  });

  it('returns to a same-origin path with its query and fragment', async () => {
    const { callback } = await signIn('corp', 'code-ops', '/pipelines/github.com/estafette/api/builds/7?tab=logs#L12');
    expect(callback.headers.get('location')).to.equal('/pipelines/github.com/estafette/api/builds/7?tab=logs#L12');
  });

  it('lists providers; logout is POST only, clears the session cookie, and with a cookie needs the CSRF header', async () => {
    // Estafette's bare array of {id, name, organization, path}, plus our label.
    expect((await get(api('/api/auth/providers'))).body).to.deep.equal([
      { id: 'corp', name: 'Corp', organization: '', path: '/api/auth/login/corp', label: 'Corp SSO' },
      { id: 'github', name: 'Github', organization: '', path: '/api/auth/login/github', label: 'github' },
    ]);
    const session = cookiePair(cookieOf((await signIn('corp', 'code-ops')).callback, 'estafette_session')!);
    const logout = (headers: Record<string, string>, method = 'POST') => fetch(api('/api/auth/logout'), { method, headers, redirect: 'manual' });
    // A link (GET) or a cross-site form (a cookie, no header) signs nobody out.
    const viaLink = await logout({ cookie: session }, 'GET');
    expect(viaLink.status).to.equal(405);
    const viaForm = await logout({ cookie: session, 'content-type': 'application/x-www-form-urlencoded' });
    expect([viaForm.status, ((await viaForm.json()) as { message: string }).message]).to.deep.equal([403, 'missing x-requested-with or x-estafette-csrf header (cookies alone cannot change anything)']);
    for (const r of [viaLink, viaForm]) expect(cookieOf(r, 'estafette_session')).to.equal(undefined);
    const out = await logout({ cookie: session, 'x-requested-with': 'XMLHttpRequest' });
    expect(out.status).to.equal(204);
    expect(cookieOf(out, 'estafette_session')).to.match(/^estafette_session=; Path=\/; Max-Age=0;/);
    expect((await logout({})).status, 'without a session there is nothing to forge').to.equal(204);
  });

  it('API clients: id/secret → bearer token with the configured role; wrong secret → 401', async () => {
    const post = (body: unknown) => fetch(api('/api/auth/client/login'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ok = await post({ clientId: 'deploy-bot', clientSecret: 'bot-secret' });
    const { token, expiresIn, role } = (await ok.json()) as { token: string; expiresIn: number; role: string };
    expect([ok.status, expiresIn, role]).to.deep.equal([200, 28800, 'operator']);
    expect((await get(api('/api/me'), { authorization: `Bearer ${token}` })).body).to.deep.include({
      active: true,
      roles: ['operator'],
      email: 'deploy-bot',
      currentProvider: 'client',
      authenticated: true,
      user: { email: 'deploy-bot', name: 'deploy-bot' },
      role: 'operator',
      authEnabled: true,
    });
    for (const bad of [
      { clientId: 'deploy-bot', clientSecret: 'nope' },
      { clientId: 'other', clientSecret: 'bot-secret' },
    ])
      expect((await post(bad)).status).to.equal(401);
    expect((await post({ clientId: 'deploy-bot' })).status).to.equal(400);
  });

  describe('every mutating route checks role and CSRF', () => {
    const session = (role: Identity['role'], kind: Identity['kind'] = 'user') => signSession(JWT_KEY, { kind, email: `${role}@example.com`, name: role, role, provider: 'corp' });
    type Caller = { name: string; headers: () => Promise<Record<string, string>>; status: number | null };
    const callers: Caller[] = [
      { name: 'nobody', headers: async () => ({}), status: 401 },
      {
        name: 'a forged session',
        headers: async () => ({ cookie: `estafette_session=${await signSession('wrong-key', { kind: 'user', email: 'x@y', name: 'x', role: 'administrator', provider: 'corp' })}`, 'x-requested-with': 'XMLHttpRequest' }),
        status: 401,
      },
      {
        name: 'an expired session',
        headers: async () => ({ cookie: `estafette_session=${await signSession(JWT_KEY, { kind: 'user', email: 'x@y', name: 'x', role: 'administrator', provider: 'corp' }, -5)}`, 'x-requested-with': 'XMLHttpRequest' }),
        status: 401,
      },
      { name: 'a builder job token', headers: async () => ({ authorization: `Bearer ${await signJobToken(JWT_KEY, { kind: 'build', id: '1' })}` }), status: 401 },
      { name: 'a viewer', headers: async () => ({ cookie: `estafette_session=${await session('viewer')}`, 'x-requested-with': 'XMLHttpRequest' }), status: 403 },
      { name: 'an operator cookie without the CSRF header', headers: async () => ({ cookie: `estafette_session=${await session('operator')}` }), status: 403 },
      { name: 'an operator cookie with X-Requested-With', headers: async () => ({ cookie: `estafette_session=${await session('operator')}`, 'x-requested-with': 'XMLHttpRequest' }), status: null },
      { name: 'an administrator cookie with X-Estafette-CSRF', headers: async () => ({ cookie: `estafette_session=${await session('administrator')}`, 'x-estafette-csrf': '1' }), status: null },
      { name: 'an operator API client (bearer, no CSRF header needed)', headers: async () => ({ authorization: `Bearer ${await session('operator', 'client')}` }), status: null },
    ];
    const routes = () => [
      { method: 'POST', path: '/api/pipelines/github.com/estafette/guarded/builds', body: { buildVersion: '1.0.0' }, event: 'build.requested' },
      { method: 'DELETE', path: `/api/pipelines/github.com/estafette/guarded/builds/${ids.running}`, event: 'build.cancel' },
      { method: 'POST', path: '/api/pipelines/github.com/estafette/guarded/releases', body: { name: 'production', releaseVersion: '1.0.0' }, event: 'release.requested' },
      { method: 'DELETE', path: `/api/pipelines/github.com/estafette/guarded/releases/${ids.pendingRelease}`, event: 'release.cancel' },
    ];
    callers.forEach((c) =>
      it(`${c.name} → ${c.status ?? 202} on every mutating route`, async () => {
        for (const r of routes()) {
          const before = h.published.length;
          const res = await fetch(api(r.path), { method: r.method, headers: { ...(await c.headers()), ...(r.body ? { 'content-type': 'application/json' } : {}) }, body: r.body ? JSON.stringify(r.body) : undefined });
          const body = (await res.json()) as { status?: number; message?: string; eventId?: string };
          expect(res.status, `${r.method} ${r.path}: ${body.message}`).to.equal(c.status ?? 202);
          if (c.status === null) expect(h.published.slice(before).map((e) => [e.name, e.id])).to.deep.equal([[r.event, body.eventId]]);
          else expect(h.published.length, r.path).to.equal(before);
          if (c.status === 403) expect(body.message).to.match(c.name.includes('CSRF') ? /x-requested-with or x-estafette-csrf/ : /needs the operator role; you are viewer/);
        }
      }),
    );

    it('reads need a signed-in caller; a viewer may read', async () => {
      expect((await get(api('/api/pipelines'))).status).to.equal(401);
      expect((await get(api('/api/pipelines/github.com/estafette/guarded/builds'))).status).to.equal(401);
      const viewer = { cookie: `estafette_session=${await session('viewer')}` };
      expect((await get(api('/api/pipelines'), viewer)).body.items.map((p: { repoName: string }) => p.repoName)).to.deep.equal(['guarded']);
      // Not signed in: Estafette's UI reads active: false and shows its login page.
      expect((await get(api('/api/me'))).body).to.deep.equal({ active: false, authenticated: false, user: null, role: 'viewer', authEnabled: true });
    });
  });
});
