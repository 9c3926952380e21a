/**
 * Sessions: an HS256 JWT (ESTAFETTE_JWT_KEY) naming the user or API client and its role, carried
 * in an HttpOnly, Secure, SameSite=Lax cookie for browsers or as a bearer token for API clients.
 * 8 hours long; nothing is stored server-side, so signing out clears the cookie.
 */
import { SignJWT, jwtVerify } from 'jose';
import { isRole, type Role } from './roles.ts';

/** Who is signed in. */
export interface Identity {
  /** `user` signed in through a provider; `client` an API client with id/secret. */
  kind: 'user' | 'client';
  /** Email for users, client id for clients. */
  email: string;
  name: string;
  role: Role;
  /** Provider name, or `client`. */
  provider: string;
  /** The identity provider's groups of the user (release approvals may name groups). */
  groups?: string[];
}

/** Session life in seconds (8 h). */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;
/** Cookie names. */
export const SESSION_COOKIE = 'estafette_session';
export const LOGIN_STATE_COOKIE = 'estafette_login';

const AUDIENCE = 'estafette-session';
const secret = (key: string) => new TextEncoder().encode(key);

/** Signs a session token for `who`. */
export async function signSession(key: string, who: Identity, ttlSeconds = SESSION_TTL_SECONDS): Promise<string> {
  return new SignJWT({ kind: who.kind, name: who.name, role: who.role, provider: who.provider, ...(who.groups?.length ? { groups: who.groups.slice(0, 100) } : {}) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(who.email)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(secret(key));
}

/** The identity in a session token, or undefined when invalid, expired or another kind of token (e.g. a job token). */
export async function verifySession(key: string, token: string): Promise<Identity | undefined> {
  try {
    const { payload: p } = await jwtVerify(token, secret(key), { algorithms: ['HS256'], audience: AUDIENCE });
    if (typeof p.sub !== 'string' || !isRole(p.role) || (p.kind !== 'user' && p.kind !== 'client')) return undefined;
    const groups = Array.isArray(p.groups) ? p.groups.filter((g): g is string => typeof g === 'string') : [];
    return { kind: p.kind, email: p.sub, name: typeof p.name === 'string' ? p.name : p.sub, role: p.role, provider: typeof p.provider === 'string' ? p.provider : '', ...(groups.length ? { groups } : {}) };
  } catch {
    return undefined;
  }
}

/** A Set-Cookie value; `maxAge` 0 deletes the cookie. `secure` is off only for plain-http local testing. */
export function cookie(name: string, value: string, maxAge: number, secure = true): string {
  return `${name}=${encodeURIComponent(value)}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

/** Cookies of a request's Cookie header. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    try {
      out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      // a cookie that is not ours and not URI-encoded: skip it
    }
  }
  return out;
}
