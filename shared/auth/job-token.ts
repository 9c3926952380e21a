/**
 * Job tokens: an HS256 JWT per build/release that authorises its builder to write logs and
 * status for that job only (claim `job` = `<kind>/<id>`), like Estafette's job JWT. It expires at
 * the job's deadline, and log-ingest refuses it once the job is final (the token ends with its job).
 */
import { SignJWT, jwtVerify } from 'jose';
import { systemClock, type Clock } from '../time/clock.ts';

export interface JobClaim {
  kind: 'build' | 'release' | 'bot';
  id: string;
}

const secret = (key: string) => new TextEncoder().encode(key);

/** Signs a token for one job, valid for `ttlSeconds` from `clock`'s now (build-dispatch gives the job's deadline; the 6 h default, Estafette's job token life, is for tools and tests). */
export async function signJobToken(key: string, job: JobClaim, ttlSeconds = 6 * 60 * 60, clock: Clock = systemClock): Promise<string> {
  const now = Math.floor(clock.now() / 1000);
  return new SignJWT({ job: `${job.kind}/${job.id}` })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(secret(key));
}

/** The job a token authorises, or undefined when the token is invalid, expired (by `clock`) or malformed. */
export async function verifyJobToken(key: string, token: string, clock: Clock = systemClock): Promise<JobClaim | undefined> {
  try {
    const { payload } = await jwtVerify(token, secret(key), { algorithms: ['HS256'], currentDate: new Date(clock.now()) });
    const m = typeof payload.job === 'string' ? /^(build|release|bot)\/(\d{1,20})$/.exec(payload.job) : null;
    return m ? { kind: m[1] as JobClaim['kind'], id: m[2] } : undefined;
  } catch {
    return undefined;
  }
}
