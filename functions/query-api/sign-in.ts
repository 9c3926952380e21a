/**
 * Sign-in routes of query-api: `/api/me`, the provider list, the OAuth2/OIDC login redirect and
 * callback (state bound to a short-lived signed cookie, then an 8 h session cookie), sign-out,
 * and API-client login (client id/secret → bearer token). With sign-in off they say so.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Principal } from '../../shared/auth/access.ts';
import { authorizeRedirect, exchangeCode, fetchUser } from '../../shared/auth/oauth.ts';
import { roleFor } from '../../shared/auth/roles.ts';
import { cookie, LOGIN_STATE_COOKIE, parseCookies, SESSION_COOKIE, SESSION_TTL_SECONDS, signSession } from '../../shared/auth/session.ts';
import type { AuthSettings } from '../../shared/auth/settings.ts';
import { HttpError, ValidationError } from '../../shared/errors/http-error.ts';
import { json, type HttpRequest, type HttpResponse } from '../../shared/http/types.ts';
import { field, jsonBody } from './params.ts';

type EnabledAuth = Extract<AuthSettings, { enabled: true }>;
const LOGIN_TTL_SECONDS = 10 * 60;
const LOGIN_AUDIENCE = 'estafette-login';

/**
 * `GET /api/me`: the caller as Estafette's `User` (estafette-ci-contracts user.go) — `active`
 * (signed in, or sign-in off), `roles`, `email`, `name`, `identities`, `currentProvider` — with
 * our own fields beside them: `authenticated`, `user`, `role` (one of viewer, operator,
 * administrator) and `authEnabled`. Estafette's roles are permission names; ours map to
 * `administrator` (which Estafette's UI checks for its admin views) and to our role's name.
 * With sign-in off the caller is the local administrator, so Estafette's UI needs no sign-in.
 */
export function me(p: Principal, auth: AuthSettings): HttpResponse {
  const active = p.authenticated || !auth.enabled;
  const email = p.user?.email ?? (auth.enabled ? '' : 'local');
  const name = p.user?.name ?? (auth.enabled ? '' : 'local administrator');
  const provider = p.identity?.provider ?? (auth.enabled ? '' : 'local');
  return json(200, {
    ...(active ? { id: email } : {}),
    active,
    ...(active ? { identities: [{ provider, id: email, email, name }], roles: p.role === 'viewer' ? [] : [p.role] } : {}),
    ...(active && p.identity?.groups?.length ? { groups: p.identity.groups.map((g) => ({ name: g })) } : {}),
    ...(active ? { currentProvider: provider, email, name } : {}),
    authenticated: p.authenticated,
    user: p.user,
    role: p.role,
    authEnabled: auth.enabled,
  });
}

/**
 * `GET /api/auth/providers`: a bare array as Estafette returns it, each `{id, name, organization,
 * path}` (`name` title-cased, `path` the login redirect), plus our `label`. Empty with sign-in off.
 */
export function providers(auth: AuthSettings): HttpResponse {
  const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  return json(200, auth.enabled ? auth.providers.map((p) => ({ id: p.name, name: title(p.name), organization: '', path: `/api/auth/login/${p.name}`, label: p.label ?? p.name })) : []);
}

const enabled = (auth: AuthSettings): EnabledAuth => {
  if (!auth.enabled) throw new HttpError(404, 'sign-in is off (local mode: everyone is an administrator)');
  return auth;
};
const provider = (auth: EnabledAuth, name: string) => {
  const p = auth.providers.find((x) => x.name === name);
  if (!p) throw new HttpError(404, `no sign-in provider '${name.slice(0, 40)}'`);
  return p;
};
const redirectUri = (auth: EnabledAuth, name: string) => `${auth.baseUrl.replace(/\/$/, '')}/api/auth/handle/${name}`;
/**
 * The path to return to after sign-in when `v` is a same-origin path, else `/` (no open
 * redirect): it starts with one `/` (not `//` or `/\`), has no control character, tab or
 * backslash — also once percent-decoded, as browsers drop tabs and newlines from a Location
 * (`/%09/evil.example` is `//evil.example` to them) — and, resolved against `baseUrl`, keeps
 * its origin. What comes back is the resolved path, query and fragment.
 */
export function safeReturnPath(v: string | null | undefined, baseUrl: string): string {
  if (!v || v.length > 2000 || !/^\/(?![/\\])/.test(v)) return '/';
  let decoded: string;
  try {
    decoded = decodeURIComponent(v);
  } catch {
    return '/';
  }
  const unsafe = /[\x00-\x1f\x7f\\]/;
  if (unsafe.test(v) || unsafe.test(decoded) || /^\/[/\\]/.test(decoded)) return '/';
  let base: URL;
  let target: URL;
  try {
    base = new URL(baseUrl);
    target = new URL(v, base);
  } catch {
    return '/';
  }
  // `/..//evil.example` resolves to the path `//evil.example`, which a Location makes off-site again.
  if (target.origin !== base.origin || /^\/[/\\]/.test(target.pathname)) return '/';
  return `${target.pathname}${target.search}${target.hash}`;
}
const key = (auth: EnabledAuth) => new TextEncoder().encode(auth.jwtKey);
const redirect = (location: string, cookies: string[]): HttpResponse =>
  // node's writeHead sends an array value as one header line per cookie.
  ({ status: 302, headers: { location, 'cache-control': 'no-store', 'set-cookie': cookies as unknown as string }, body: '' });

/** `GET /api/auth/login/:provider?returnURL=`: redirect to the provider. */
export async function login(auth: AuthSettings, name: string, req: HttpRequest): Promise<HttpResponse> {
  const a = enabled(auth);
  const p = provider(a, name);
  const state = randomBytes(24).toString('base64url');
  const ticket = await new SignJWT({ state, provider: p.name, returnURL: safeReturnPath(req.query.get('returnURL'), a.baseUrl) })
    .setProtectedHeader({ alg: 'HS256' })
    .setAudience(LOGIN_AUDIENCE)
    .setExpirationTime(Math.floor(Date.now() / 1000) + LOGIN_TTL_SECONDS)
    .sign(key(a));
  return redirect(authorizeRedirect(p, redirectUri(a, p.name), state), [cookie(LOGIN_STATE_COOKIE, ticket, LOGIN_TTL_SECONDS, a.secureCookies ?? true)]);
}

/** `GET /api/auth/handle/:provider?code&state`: the provider's callback. */
export async function handle(auth: AuthSettings, name: string, req: HttpRequest, fetchFn: typeof fetch): Promise<HttpResponse> {
  const a = enabled(auth);
  const p = provider(a, name);
  const error = req.query.get('error');
  if (error) throw new HttpError(401, `${p.name} refused the sign-in: ${error.slice(0, 100)}`);
  const code = req.query.get('code');
  const state = req.query.get('state');
  if (!code || !state) throw new ValidationError('code and state are required');
  const ticket = parseCookies(req.headers.cookie)[LOGIN_STATE_COOKIE];
  let returnURL = '/';
  try {
    const { payload } = await jwtVerify(ticket ?? '', key(a), { algorithms: ['HS256'], audience: LOGIN_AUDIENCE });
    if (payload.state !== state || payload.provider !== p.name) throw new Error('state mismatch');
    returnURL = safeReturnPath(typeof payload.returnURL === 'string' ? payload.returnURL : '/', a.baseUrl);
  } catch {
    throw new HttpError(400, 'sign-in expired or was started elsewhere; start again');
  }
  const token = await exchangeCode(p, code, redirectUri(a, p.name), fetchFn);
  const user = await fetchUser(p, token, fetchFn);
  const session = await signSession(a.jwtKey, { kind: 'user', email: user.email, name: user.name, role: roleFor(a.roles, user.email, user.groups), provider: p.name, groups: user.groups });
  const secure = a.secureCookies ?? true;
  return redirect(returnURL, [cookie(SESSION_COOKIE, session, SESSION_TTL_SECONDS, secure), cookie(LOGIN_STATE_COOKIE, '', 0, secure)]);
}

/**
 * `POST /api/auth/logout`: clears the session cookie. POST only, and with a session cookie it
 * needs the CSRF header like every mutation (query-api's handler): a link or a cross-site form
 * cannot sign anyone out.
 */
export function logout(auth: AuthSettings): HttpResponse {
  const cleared = cookie(SESSION_COOKIE, '', 0, auth.enabled ? (auth.secureCookies ?? true) : true);
  // node's writeHead sends an array value as one header line per cookie.
  return { status: 204, headers: { 'cache-control': 'no-store', 'set-cookie': [cleared] as unknown as string }, body: '' };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `POST /api/auth/client/login` `{clientId, clientSecret}` → `{token, expiresIn}` for `Authorization: Bearer`. */
export async function clientLogin(auth: AuthSettings, req: HttpRequest): Promise<HttpResponse> {
  const a = enabled(auth);
  const body = jsonBody(req);
  const id = field(body, 'clientId', 200);
  const secret = field(body, 'clientSecret', 1000);
  // Compare digests in constant time so neither the length nor a prefix of a secret leaks.
  const client = a.clients.find((c) => c.id === id && timingSafeEqual(digest(c.secret), digest(secret)));
  if (!client) throw new HttpError(401, 'unknown client or wrong secret');
  const token = await signSession(a.jwtKey, { kind: 'client', email: client.id, name: client.name ?? client.id, role: client.role, provider: 'client' });
  return json(200, { token, expiresIn: SESSION_TTL_SECONDS, role: client.role });
}
