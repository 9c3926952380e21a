/**
 * Services a fault-injection test owns: its own nats-server (JetStream, store in a temp dir) and
 * its own PostgreSQL cluster (initdb in a temp dir, socket in that dir), each on a free port, so
 * a test may stop, kill and restart them without touching the shared servers every other test
 * uses. The port and data stay the same across restarts, so clients reconnect to the same URL and
 * find what was stored before.
 *
 *   const nats = await startOwnNats({ user: 'ci', pass: 's3cret' });   // nats.url has the credentials
 *   await nats.stop(); … await nats.start();                          // an outage
 *   const pg = await startOwnPostgres();                               // pg.url: postgres://postgres@127.0.0.1:<port>/postgres
 *   await pg.kill(); await pg.start();                                 // a crash (SIGKILL of the postmaster)
 *   await nats.close(); await pg.close();                              // stopped, temp dirs removed (in `after`)
 *
 * Every process is spawned directly (no shell, no npx) and ended by its own pid only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { freePort } from '../../cli/start/database.ts';
import { childrenOf } from '../support/processes.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATS_SERVER = '/usr/sbin/nats-server';
export const INITDB = '/usr/local/bin/initdb';
export const POSTGRES = '/usr/local/bin/postgres';

/** A service process this test owns. */
export interface OwnService {
  /** Connection URL (with credentials when the service was started with some). */
  readonly url: string;
  readonly port: number;
  /** Its temp dir (store, data, socket, log). */
  readonly dir: string;
  /** True while its process runs. */
  running(): boolean;
  /** Starts it again (same port, same data); resolves once it accepts connections. No-op while running. */
  start(): Promise<void>;
  /** Stops it gracefully (SIGTERM / PostgreSQL fast shutdown) and waits for the process to end. No-op when stopped. */
  stop(): Promise<void>;
  /** Kills it and its child processes with SIGKILL (a crash) and waits for the process to end. */
  kill(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** The last lines it wrote (for failure messages). */
  output(): string;
  /** Stops it and removes its temp dir. Safe to call twice. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True when something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

interface ProcessSpec {
  command: string;
  args: string[];
  /** Resolves true once the process serves. */
  ready: () => Promise<boolean>;
  /** Signal of a graceful stop. */
  stopSignal: NodeJS.Signals;
  uid?: number;
  gid?: number;
}

/** One restartable process; the shared start/stop/kill logic of both services. */
function ownProcess(name: string, spec: ProcessSpec, url: string, port: number, dir: string): OwnService {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let out = '';
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const end = async (signal: NodeJS.Signals) => {
    if (!alive()) return;
    child!.kill(signal);
    const bounded = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
    if (!bounded && alive()) {
      child!.kill('SIGKILL');
      await exited;
    }
  };
  const service: OwnService = {
    url,
    port,
    dir,
    running: alive,
    output: () => out.slice(-4000),
    async start() {
      if (alive()) return;
      // After a kill, the old process may still hold the port or the data dir for a moment: retry.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const c = spawn(spec.command, spec.args, { stdio: ['ignore', 'pipe', 'pipe'], ...(spec.uid !== undefined ? { uid: spec.uid, gid: spec.gid } : {}) });
        child = c;
        exited = new Promise((resolve) => c.once('exit', () => resolve()));
        c.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
        c.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
        while (alive() && !(await spec.ready()) && Date.now() < deadline) await sleep(50);
        if (alive() && (await spec.ready())) return;
        await end('SIGKILL');
        if (Date.now() >= deadline) throw new Error(`${name} did not start within 30 s:\n${service.output()}`);
        await sleep(250);
      }
    },
    stop: () => end(spec.stopSignal),
    async kill() {
      // The whole server dies, as in a crash of the machine or an OOM kill: its children too (a
      // PostgreSQL backend outliving its postmaster holds the shared memory, and a restart waits).
      const children = child?.pid ? childrenOf(child.pid) : [];
      await end('SIGKILL');
      for (const pid of children) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
    async restart() {
      await service.stop();
      await service.start();
    },
    async close() {
      await end(spec.stopSignal);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return service;
}

/** Credentials of an own nats-server: user + password, or a token. */
export interface NatsAuth {
  user?: string;
  pass?: string;
  token?: string;
}

/**
 * Starts `nats-server -js -p <port> -sd <dir>` (127.0.0.1 only), with `--user/--pass` or
 * `--auth` when given; `url` then carries them (`nats://user:pass@…`, `nats://token@…`), and
 * `bareUrl` does not.
 */
export async function startOwnNats(auth: NatsAuth = {}): Promise<OwnService & { bareUrl: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'estafette-faults-nats-'));
  const port = await freePort();
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'store')];
  let creds = '';
  if (auth.user) {
    args.push('--user', auth.user, '--pass', auth.pass ?? '');
    creds = `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass ?? '')}@`;
  } else if (auth.token) {
    args.push('--auth', auth.token);
    creds = `${encodeURIComponent(auth.token)}@`;
  }
  const bareUrl = `nats://127.0.0.1:${port}`;
  const s = ownProcess('nats-server', { command: NATS_SERVER, args, ready: () => accepts(port), stopSignal: 'SIGTERM' }, `nats://${creds}127.0.0.1:${port}`, port, dir);
  await s.start();
  return Object.assign(s, { bareUrl });
}

/** The uid/gid PostgreSQL runs as when this process is root (initdb and postgres refuse root). */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * initdb's a cluster in a temp dir (trust auth, user `postgres`) and starts
 * `postgres -D <dir>/data -p <port> -k <dir>` listening on 127.0.0.1; `url` is its `postgres`
 * database. As root, both run as the system user `postgres`.
 */
export async function startOwnPostgres(): Promise<OwnService> {
  const dir = mkdtempSync(join(tmpdir(), 'estafette-faults-pg-'));
  const owner = postgresUser();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const init = spawnSync(INITDB, ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'], { encoding: 'utf8', ...(owner ?? {}) });
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on', '-c', 'max_connections=100'];
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ready = async () => {
    if (!(await accepts(port))) return false;
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => {});
    }
  };
  // SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for every client to leave).
  const s = ownProcess('postgres', { command: POSTGRES, args, ready, stopSignal: 'SIGINT', ...(owner ?? {}) }, url, port, dir);
  await s.start();
  return s;
}
