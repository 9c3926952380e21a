/**
 * `estafette start` as a real process for end-to-end and browser tests: spawns
 * `node bin/estafette.js start` on a free port with its own state folder, waits for the line that
 * says where it runs, and stops it with a signal like a user's Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/estafette.js', import.meta.url));

export interface LocalSystem {
  url: string;
  token: string;
  stateDir: string;
  child: ChildProcess;
  output(): string;
  /** Sends SIGINT (or `signal`) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** GET/POST JSON against the API. */
  api<T = any>(path: string, init?: RequestInit): Promise<{ status: number; body: T }>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  args?: string[];
  /** Reuse a state folder (restart tests). */
  stateDir?: string;
  /** Working directory of the process (default: this one). */
  cwd?: string;
  timeoutMs?: number;
  /**
   * Run it as a terminal runs a foreground command: leader of its own process group, and `stop`
   * signals the whole group (Ctrl-C reaches every process of the group, children too).
   */
  processGroup?: boolean;
}

/** Starts the system; rejects with its output when it does not come up. */
export function startLocalSystem(opts: StartOptions = {}): Promise<LocalSystem> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'estafette-state-'));
  let out = '';
  const child = spawn(process.execPath, [BIN, 'start', ...(opts.args ?? [])], {
    // Its own per-user state too, so a test's server is never noted in the real home folder.
    env: { ...process.env, PORT: '0', ESTAFETTE_STATE_DIR: stateDir, XDG_STATE_HOME: join(stateDir, 'user-state'), ...opts.env },
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.processGroup ? { detached: true } : {}),
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`estafette start did not come up:\n${out}`));
    }, opts.timeoutMs ?? 60_000);
    const onData = () => {
      const url = /estafette: running at (\S+)/.exec(out)?.[1];
      const token = /webhook token\s+(\S+)/.exec(out)?.[1];
      if (!url || !token) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({
        url,
        token,
        stateDir,
        child,
        output: () => out,
        stop: async (signal = 'SIGINT') => {
          if (child.exitCode === null && child.signalCode === null) {
            if (opts.processGroup) process.kill(-child.pid!, signal);
            else child.kill(signal);
          }
          return exited;
        },
        api: async (path, init) => {
          const res = await fetch(`${url}${path}`, { ...init, headers: { 'content-type': 'application/json', 'x-requested-with': 'estafette-test', ...(init?.headers ?? {}) } });
          const text = await res.text();
          let body: any = text;
          try {
            body = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          return { status: res.status, body };
        },
      });
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`estafette start exited with ${code}:\n${out}`));
    });
  });
}

/** Posts the generic webhook for a repository at `dir` (HEAD of `branch`). */
export async function pushRepo(sys: LocalSystem, dir: string, branch: string, revision: string): Promise<{ status: number; eventId?: string }> {
  const res = await fetch(`${sys.url}/api/integrations/generic/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sys.token}` },
    body: JSON.stringify({ repository: `file://${dir}`, branch, revision }),
  });
  const body = (await res.json()) as { eventId?: string };
  return { status: res.status, eventId: body.eventId };
}
