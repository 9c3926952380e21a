/**
 * log-ingest's job-token checks follow the injected clock: a token signed on a fake clock is
 * accepted while it is valid on that clock — from the cache too — and refused once the clock
 * passes its expiry, without waiting for real time to pass.
 */
import { expect } from 'chai';
import type pg from 'pg';
import { signJobToken } from '../../../shared/auth/job-token.ts';
import { MemoryLiveLogs } from '../../../shared/bus/live-logs.ts';
import { HttpError } from '../../../shared/errors/http-error.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { makeHandler } from '../../../functions/log-ingest/handler.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { silentLogger } from '../../support/logger.ts';

const KEY = 'a-test-key-for-job-tokens';
// A heartbeat reads only the job's status (a final job's token is refused): build 123 is running.
const RUNNING_BUILD = { query: async () => ({ rows: [{ status: 'running' }] }) } as unknown as pg.Pool;

const heartbeat = (token: string, clock: FakeClock): HttpRequest => ({
  method: 'POST',
  path: '/api/ingest/builds/123/heartbeat',
  query: new URLSearchParams(),
  headers: { authorization: `Bearer ${token}` },
  rawBody: Buffer.from(JSON.stringify({ sentAt: new Date(clock.now()).toISOString() })),
  signal: new AbortController().signal,
});

async function status(p: Promise<{ status: number }>): Promise<number> {
  try {
    return (await p).status;
  } catch (err) {
    if (err instanceof HttpError) return err.status;
    throw err;
  }
}

describe('log-ingest: job tokens on the injected clock', () => {
  it('accepts a token until the clock passes its expiry, then answers 401', async () => {
    const clock = new FakeClock(Date.parse('2024-03-01T12:00:00Z'));
    const handle = makeHandler({ pool: RUNNING_BUILD, liveLogs: new MemoryLiveLogs(), publish: async () => ({ duplicate: false }), jwtKey: KEY, log: silentLogger, clock });
    const token = await signJobToken(KEY, { kind: 'build', id: '123' }, 60, clock);
    expect(await status(handle(heartbeat(token, clock)))).to.equal(202);
    await clock.advance(59_000);
    expect(await status(handle(heartbeat(token, clock))), 'still valid (cached)').to.equal(202);
    await clock.advance(2_000);
    expect(await status(handle(heartbeat(token, clock))), 'expired on the clock').to.equal(401);
  });

  it('refuses a token that had expired on the clock before it was first seen', async () => {
    const clock = new FakeClock(Date.parse('2024-03-01T12:00:00Z'));
    const handle = makeHandler({ pool: RUNNING_BUILD, liveLogs: new MemoryLiveLogs(), publish: async () => ({ duplicate: false }), jwtKey: KEY, log: silentLogger, clock });
    const old = await signJobToken(KEY, { kind: 'build', id: '123' }, 60, new FakeClock(Date.parse('2024-02-01T12:00:00Z')));
    expect(await status(handle(heartbeat(old, clock)))).to.equal(401);
  });
});
