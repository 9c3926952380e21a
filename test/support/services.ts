/**
 * Resolves the real services tests talk to, once per test run:
 *   1. DATABASE_URL / NATS_URL / COCKROACH_URL from the environment when set;
 *   2. otherwise a testcontainers container when a Docker engine answers;
 *   3. otherwise the suite is skipped with one loud line — or, under REQUIRE_SERVICES=1
 *      (set by .ci/run), fails instead.
 * Suites get an isolated database each (`freshDatabase`) so suites and parallel runs never
 * see each other's rows.
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1';

type Resolved = { url: string } | { reason: string };
const cache = new Map<string, Promise<Resolved>>();
const stoppers: Array<() => Promise<unknown>> = [];

function dockerAvailable(): boolean {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return existsSync(host.slice('unix://'.length));
  if (host) return true;
  return existsSync('/var/run/docker.sock');
}

async function viaContainer(kind: 'postgres' | 'nats' | 'cockroach'): Promise<Resolved> {
  if (!dockerAvailable()) return { reason: 'no Docker engine for testcontainers' };
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  try {
    if (kind === 'postgres') {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const c = await new PostgreSqlContainer(process.env.TEST_POSTGRES_IMAGE ?? 'postgres:16-alpine').start();
      stoppers.push(() => c.stop());
      return { url: c.getConnectionUri() };
    }
    if (kind === 'cockroach') {
      const { CockroachDbContainer } = await import('@testcontainers/cockroachdb');
      const c = await new CockroachDbContainer(process.env.TEST_COCKROACH_IMAGE ?? 'cockroachdb/cockroach:v24.1.0').start();
      stoppers.push(() => c.stop());
      return { url: c.getConnectionUri() };
    }
    const { GenericContainer, Wait } = await import('testcontainers');
    const c = await new GenericContainer(process.env.TEST_NATS_IMAGE ?? 'nats:2.10-alpine')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start();
    stoppers.push(() => c.stop());
    return { url: `nats://${c.getHost()}:${c.getMappedPort(4222)}` };
  } catch (err) {
    return { reason: `testcontainers could not start ${kind}: ${(err as Error).message.split('\n')[0]}` };
  }
}

function resolve(kind: 'postgres' | 'nats' | 'cockroach'): Promise<Resolved> {
  let p = cache.get(kind);
  if (!p) {
    const env = { postgres: 'DATABASE_URL', nats: 'NATS_URL', cockroach: 'COCKROACH_URL' }[kind];
    const fromEnv = process.env[env];
    p = fromEnv ? Promise.resolve({ url: fromEnv }) : viaContainer(kind);
    cache.set(kind, p);
  }
  return p;
}

/**
 * The URL of a service, or skips the current mocha suite/test (fails under REQUIRE_SERVICES=1).
 * Call from a `before` hook with its `this`.
 */
export async function requireService(ctx: Mocha.Context, kind: 'postgres' | 'nats' | 'cockroach'): Promise<string> {
  const r = await resolve(kind);
  if ('url' in r) return r.url;
  // CockroachDB is only ever reached through testcontainers here; REQUIRE_SERVICES covers the services CI starts.
  if (REQUIRE_SERVICES && kind !== 'cockroach') throw new Error(`REQUIRE_SERVICES=1 but ${kind} is unavailable: ${r.reason}`);
  console.warn(`\n  ⚠ SKIPPED (${kind} unavailable: ${r.reason})`);
  ctx.skip();
}

/** Creates an empty database on the server behind `serverUrl`; returns its URL and a drop function. */
export async function freshDatabase(serverUrl: string, prefix = 't'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => c.query(`DROP DATABASE IF EXISTS ${name} CASCADE`));
      } finally {
        await c.end();
      }
    },
  };
}

/** A name unique to this run, for JetStream streams, consumers and subjects in tests. */
export const uniqueName = (prefix: string): string => `${prefix}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`.toUpperCase();

/** Stops containers started for this run (registered as a mocha root hook in test/support/hooks.ts). */
export async function stopServices(): Promise<void> {
  await Promise.allSettled(stoppers.map((s) => s()));
}
