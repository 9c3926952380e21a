/**
 * The `estafette` command as a user runs it, for CLI tests: `node bin/estafette.js <args>` as a
 * real child process (never npx: killing it would leave node running), with the environment
 * given (a value of undefined removes a variable), its output collected, and its exit code.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ESTAFETTE_BIN = fileURLToPath(new URL('../../bin/estafette.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** The program to run (default: this checkout's bin/estafette.js under this node). */
  bin?: string;
  /** Kill it (SIGKILL) after this long; the result then shows code null. */
  timeoutMs?: number;
  /** Called with all of stdout so far whenever more arrives (to act while it runs). */
  onStdout?: (stdout: string) => void;
}

/** Runs `estafette args…` to its end. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: '1', ...opts.env })) if (v !== undefined) env[k] = v;
  const [cmd, argv] = opts.bin ? [opts.bin, args] : [process.execPath, [ESTAFETTE_BIN, ...args]];
  const child = spawn(cmd, argv, { cwd: opts.cwd ?? process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] });
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
