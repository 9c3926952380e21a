/**
 * Job tokens: an HS256 JWT per build/release that authorises its builder to write logs and
 * status for that job only (claim `job` = `<kind>/<id>`), like Estafette's job JWT.
 */
import { SignJWT, jwtVerify } from 'jose';

export interface JobClaim {
  kind: 'build' | 'release' | 'bot';
  id: string;
}

const secret = (key: string) => new TextEncoder().encode(key);

/** Signs a token for one job, valid for `ttlSeconds` (default 6 h, Estafette's job token life). */
export async function signJobToken(key: string, job: JobClaim, ttlSeconds = 6 * 60 * 60): Promise<string> {
  return new SignJWT({ job: `${job.kind}/${job.id}` })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(secret(key));
}

/** The job a token authorises, or undefined when the token is invalid, expired or malformed. */
export async function verifyJobToken(key: string, token: string): Promise<JobClaim | undefined> {
  try {
    const { payload } = await jwtVerify(token, secret(key), { algorithms: ['HS256'] });
    const m = typeof payload.job === 'string' ? /^(build|release|bot)\/(\d{1,20})$/.exec(payload.job) : null;
    return m ? { kind: m[1] as JobClaim['kind'], id: m[2] } : undefined;
  } catch {
    return undefined;
  }
}
