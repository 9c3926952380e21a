/**
 * Child processes of the system for tests: spawn `node` directly (killing npx leaves node
 * running). Functions run as production runs them: their bundle, `node dist/functions/<name>.mjs`
 * (the mocha root hook builds dist/ before any test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FunctionName } from '../../shared/http/functions.ts';

/** The bundle of function `name`. */
export const functionBundle = (name: FunctionName): string => fileURLToPath(new URL(`../../dist/functions/${name}.mjs`, import.meta.url));

export interface Proc {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Spawns function `name` from its bundle (`node [nodeArgs] dist/functions/<name>.mjs`) with env added. */
export function spawnFunction(name: FunctionName, env: Record<string, string | undefined>, nodeArgs: string[] = []): Proc {
  return spawnProcess(process.execPath, [...nodeArgs, functionBundle(name)], env);
}

/** Spawns `node --import tsx <args>` with env added to the current one. */
export function spawnNode(args: string[], env: Record<string, string | undefined>): Proc {
  return spawnProcess(process.execPath, ['--import', 'tsx', ...args], env);
}

/** Spawns `cmd args` with env added to the current one, collecting its output; stop = SIGTERM, then SIGKILL. */
export function spawnProcess(cmd: string, args: string[], env: Record<string, string | undefined>): Proc {
  let out = '';
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return {
    child,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves when GET url answers 200. */
export const waitForHttp = (url: string, timeoutMs = 20_000) => waitFor(`${url} to answer`, async () => (await fetch(url).catch(() => undefined))?.ok, timeoutMs, 100);

/** The command lines of the descendants of `pid` (from /proc). */
export function descendants(pid: number): Array<{ pid: number; argv: string[] }> {
  const out: Array<{ pid: number; argv: string[] }> = [];
  const children = (p: number): number[] => {
    try {
      return readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const walk = (p: number) => {
    for (const c of children(p)) {
      try {
        out.push({ pid: c, argv: readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').filter(Boolean) });
      } catch {
        /* exited meanwhile */
      }
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Pids of the live children of `ppid`, from /proc (fields after the parenthesised command: state, ppid, …). */
export function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(e));
    } catch {
      // Gone while we looked.
    }
  }
  return out;
}

/** True while `pid` runs (a zombie counts as gone). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
