/**
 * Who is calling and may they: the session cookie or bearer token of a request becomes a
 * Principal; `authorize` refuses with 401 (nobody signed in), 403 (role too low) or 403 (a
 * cookie-authenticated mutation without the anti-CSRF header: cookies alone never mutate).
 * With sign-in off (local mode) everyone is an administrator.
 */
import { HttpError } from '../errors/http-error.ts';
import type { HttpRequest } from '../http/types.ts';
import { hasRole, type Role } from './roles.ts';
import { parseCookies, SESSION_COOKIE, verifySession, type Identity } from './session.ts';
import type { AuthSettings } from './settings.ts';

/** The caller of a request. */
export interface Principal {
  authenticated: boolean;
  user: { email: string; name: string } | null;
  role: Role;
  /** How the caller was recognised: `local` = sign-in off. */
  via: 'local' | 'cookie' | 'bearer' | 'none';
  identity?: Identity;
}

/** Headers that prove a request came from our own scripts (a cross-site form cannot set them). */
const CSRF_HEADERS = ['x-requested-with', 'x-estafette-csrf'] as const;

const LOCAL: Principal = { authenticated: false, user: null, role: 'administrator', via: 'local' };
const ANONYMOUS: Principal = { authenticated: false, user: null, role: 'viewer', via: 'none' };

/** The principal of `req`. An invalid or expired credential counts as none. */
export async function authenticate(req: HttpRequest, auth: AuthSettings): Promise<Principal> {
  if (!auth.enabled) return LOCAL;
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const token = bearer ?? parseCookies(req.headers.cookie)[SESSION_COOKIE];
  if (!token) return ANONYMOUS;
  const identity = await verifySession(auth.jwtKey, token);
  if (!identity) return ANONYMOUS;
  return { authenticated: true, user: { email: identity.email, name: identity.name }, role: identity.role, via: bearer ? 'bearer' : 'cookie', identity };
}

/**
 * Throws unless `p` may call a route needing `needed`. Reading (`viewer`) needs a signed-in
 * caller when sign-in is on; `mutating` routes called with a cookie also need a CSRF header.
 */
export function authorize(p: Principal, req: HttpRequest, needed: Role, mutating: boolean): void {
  if (p.via === 'local') return;
  if (!p.authenticated) throw new HttpError(401, 'sign in first');
  if (!hasRole(p.role, needed)) throw new HttpError(403, `this needs the ${needed} role; you are ${p.role}`);
  if (mutating) checkCsrf(p, req);
}

/** Throws 403 when `req` rides on a session cookie without a CSRF header (a cross-site form or link cannot set one). */
export function checkCsrf(p: Principal, req: HttpRequest): void {
  if (p.via === 'cookie' && !CSRF_HEADERS.some((h) => req.headers[h])) {
    throw new HttpError(403, `missing ${CSRF_HEADERS.join(' or ')} header (cookies alone cannot change anything)`);
  }
}

/** Who a request acts as in events (`requestedBy`). */
export const actor = (p: Principal): string => p.user?.email ?? (p.via === 'local' ? 'local' : 'anonymous');
