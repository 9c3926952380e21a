/**
 * Runs the `estafette` command as a user does — a real `node bin/estafette.js` process (never
 * `npx`, whose node child outlives a kill) — and returns its exit code and output.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `estafette …args`; env entries set to undefined are removed from the child's environment. */
export function cli(args: string[], opts: { input?: string; env?: Record<string, string | undefined>; cwd?: string } = {}): CliResult {
  const env = { ...process.env, ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/estafette.js'), ...args], { cwd: opts.cwd ?? REPO_ROOT, input: opts.input, env, encoding: 'utf8', timeout: 30_000 });
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
