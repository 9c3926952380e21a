/**
 * OAuth 2.0 / OpenID Connect sign-in against GitHub or a generic OIDC provider (Google, Dex,
 * Keycloak…): the authorize redirect, the callback's code exchange at the token endpoint and the
 * user's identity from the userinfo endpoint — plain fetch against configurable endpoints, so a
 * test can stand up its own provider speaking the same wire protocol.
 */
import { HttpError } from '../errors/http-error.ts';

/** One configured identity provider. */
export interface OAuthProvider {
  /** Path segment of its routes (`/api/auth/login/<name>`), e.g. `github`, `google`. */
  name: string;
  kind: 'github' | 'oidc';
  /** Button text in the UI (default: the name). */
  label?: string;
  clientId: string;
  clientSecret: string;
  authorizeUrl: string;
  tokenUrl: string;
  userInfoUrl: string;
  scopes?: string[];
}

/** What a provider says about the user. */
export interface ProviderUser {
  email: string;
  name: string;
  groups: string[];
}

/** GitHub's endpoints, filled in when a `github` provider leaves them out. */
export const GITHUB_ENDPOINTS = {
  authorizeUrl: 'https://github.com/login/oauth/authorize',
  tokenUrl: 'https://github.com/login/oauth/access_token',
  userInfoUrl: 'https://api.github.com/user',
} as const;

const defaultScopes = (p: OAuthProvider): string[] => p.scopes ?? (p.kind === 'github' ? ['read:user', 'user:email', 'read:org'] : ['openid', 'email', 'profile']);

/** The provider's authorize URL for this sign-in attempt. */
export function authorizeRedirect(p: OAuthProvider, redirectUri: string, state: string): string {
  const u = new URL(p.authorizeUrl);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('client_id', p.clientId);
  u.searchParams.set('redirect_uri', redirectUri);
  u.searchParams.set('scope', defaultScopes(p).join(' '));
  u.searchParams.set('state', state);
  return u.toString();
}

/** The JSON object a provider answered; OAuth error answers (`{error}`) are returned for the caller to word. */
async function jsonOf(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(502, `${what} answered ${res.status} with something that is not JSON`);
  }
  if (body === null || typeof body !== 'object') throw new HttpError(502, `${what} answered ${res.status}`);
  if (!res.ok && typeof (body as { error?: unknown }).error !== 'string') throw new HttpError(502, `${what} answered ${res.status}`);
  return body as Record<string, unknown>;
}

/** Exchanges an authorization code for an access token (RFC 6749 §4.1.3). */
export async function exchangeCode(p: OAuthProvider, code: string, redirectUri: string, fetchFn: typeof fetch = fetch): Promise<string> {
  const res = await fetchFn(p.tokenUrl, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: p.clientId, client_secret: p.clientSecret }).toString(),
  });
  const body = await jsonOf(res, `${p.name} token endpoint`);
  if (typeof body.access_token !== 'string') {
    throw new HttpError(401, `${p.name} refused the sign-in${typeof body.error === 'string' ? `: ${body.error}` : ''}`);
  }
  return body.access_token;
}

/** The signed-in user's email, name and groups, from the userinfo endpoint (GitHub: /user, /user/emails, /user/orgs). */
export async function fetchUser(p: OAuthProvider, accessToken: string, fetchFn: typeof fetch = fetch): Promise<ProviderUser> {
  const headers = { accept: 'application/json', authorization: `Bearer ${accessToken}` };
  const info = await jsonOf(await fetchFn(p.userInfoUrl, { headers }), `${p.name} userinfo`);
  if (typeof info.error === 'string') throw new HttpError(502, `${p.name} userinfo refused the token: ${info.error}`);
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  let email = str(info.email);
  let groups = Array.isArray(info.groups) ? info.groups.filter((g): g is string => typeof g === 'string') : [];
  if (p.kind === 'github') {
    // GitHub leaves `email` null when the user keeps it private; the primary verified one is listed.
    if (!email) {
      const emails = await fetchFn(`${p.userInfoUrl}/emails`, { headers });
      if (emails.ok) {
        const list = (await emails.json()) as Array<{ email?: string; primary?: boolean; verified?: boolean }>;
        email = list.find((e) => e.primary && e.verified)?.email;
      }
    }
    const orgs = await fetchFn(`${p.userInfoUrl}/orgs`, { headers });
    if (orgs.ok) groups = ((await orgs.json()) as Array<{ login?: string }>).map((o) => o.login ?? '').filter(Boolean);
  } else if (info.email_verified === false) {
    throw new HttpError(403, `${p.name} says the email address is not verified`);
  }
  if (!email) throw new HttpError(403, `${p.name} did not tell us an email address for this account`);
  return { email, name: str(info.name) ?? str(info.login) ?? email, groups };
}
