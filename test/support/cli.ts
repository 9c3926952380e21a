/**
 * Runs the `estafette` command as a user does — a real `node bin/estafette.js` process (never
 * `npx`, whose node child outlives a kill) — and returns its exit code and output: `cli` waits
 * for it synchronously, `runCli` asynchronously (for commands that talk to a server this
 * process also runs, or that must be acted on while they run). An env entry set to undefined is
 * removed from the child's environment.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ESTAFETTE_BIN = join(REPO_ROOT, 'bin/estafette.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const childEnv = (extra: Record<string, string | undefined> = {}): Record<string, string> => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...extra })) if (v !== undefined) env[k] = v;
  return env;
};

/** Runs `estafette …args`; env entries set to undefined are removed from the child's environment. */
export function cli(args: string[], opts: { input?: string; env?: Record<string, string | undefined>; cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [ESTAFETTE_BIN, ...args], { cwd: opts.cwd ?? REPO_ROOT, input: opts.input, env: childEnv(opts.env), encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The stdout of a `--json` run, parsed; fails the test with the output when it is not JSON. */
export function cliJson<T = any>(args: string[], opts: Parameters<typeof cli>[1] = {}): { code: number | null; json: T; stderr: string } {
  const r = cli(args, opts);
  let json: T;
  try {
    json = JSON.parse(r.stdout) as T;
  } catch {
    expect.fail(`estafette ${args.join(' ')} printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, json, stderr: r.stderr };
}

/** Asserts there is no stack trace in the text. */
export const noStackTrace = (s: string): void => {
  expect(s).not.to.match(/\n\s+at .+:\d+:\d+/);
};

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** The program to run (default: this checkout's bin/estafette.js under this node), looked up on the env's PATH. */
  bin?: string;
  /** Kill it (SIGKILL) after this long; the result then shows code null. */
  timeoutMs?: number;
  /** Called with all of stdout so far whenever more arrives (to act while it runs). */
  onStdout?: (stdout: string) => void;
}

/** Runs `estafette args…` to its end without blocking this process (colours off: NO_COLOR). */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const [cmd, argv] = opts.bin ? [opts.bin, args] : [process.execPath, [ESTAFETTE_BIN, ...args]];
  const child = spawn(cmd, argv, { cwd: opts.cwd ?? process.cwd(), env: childEnv({ NO_COLOR: '1', ...opts.env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    opts.onStdout?.(stdout);
  });
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
