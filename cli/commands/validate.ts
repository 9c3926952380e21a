/**
 * `estafette validate [FILE] [--json]`: parses and lints a manifest (default ./.estafette.yaml)
 * the way the server will. Exit 0 when there is no error (warnings allowed), 1 when there are
 * errors, 2 when the file cannot be read or the arguments are wrong.
 */
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { loadManifest } from '../../shared/manifest/load.ts';
import { parseCommandArgs } from '../args.ts';
import { MAX_MANIFEST_BYTES } from '../../shared/manifest/parse.ts';
import type { Manifest, Problem } from '../../shared/manifest/types.ts';

export const summary = 'check a .estafette.yaml for errors and warnings';
export const usage = 'estafette validate [FILE|-] [--json]';
export const details = `FILE defaults to ./.estafette.yaml; - reads the manifest from stdin.

options:
  --json   print {valid, errors, warnings, stages, releases, triggers} as JSON

exit codes: 0 valid (warnings allowed), 1 errors, 2 unreadable file or wrong usage`;

/** The machine-readable result of `--json`. */
export interface ValidateJson {
  valid: boolean;
  errors: Array<{ field: string; message: string }>;
  warnings: Array<{ field: string; message: string }>;
  /** Top-level stage names in run order, the injected git-clone included. */
  stages: string[];
  releases: string[];
  /** Number of build triggers (top-level `triggers`). */
  triggers: number;
}

class UnreadableError extends Error {}

/** Reads the file as UTF-8 text, refusing directories and anything larger than the parser accepts. */
function readManifest(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UnreadableError(code === 'ENOENT' ? `${file}: no such file` : code === 'EACCES' ? `${file}: permission denied` : `${file}: cannot be opened (${code ?? 'unknown error'})`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UnreadableError(`${file}: is a directory, not a manifest file`);
    // Read at most one byte past the limit: enough for the parser to refuse, never 50 MB.
    const buf = Buffer.alloc(MAX_MANIFEST_BYTES + 1);
    let n = 0;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, n, buf.length - n, null);
      } catch (err) {
        throw new UnreadableError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      if (got === 0 || (n += got) >= buf.length) break;
    }
    return decode(buf.subarray(0, n), n > MAX_MANIFEST_BYTES);
  } finally {
    closeSync(fd);
  }
}

/** Reads stdin up to one byte past the limit (the parser then refuses it). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of process.stdin) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      chunks.push(buf);
      if ((total += buf.length) > MAX_MANIFEST_BYTES) break;
    }
  } catch (err) {
    throw new UnreadableError(`stdin: cannot be read (${(err as Error).message})`);
  }
  const all = Buffer.concat(chunks);
  return decode(all.subarray(0, MAX_MANIFEST_BYTES + 1), all.length > MAX_MANIFEST_BYTES);
}

function decode(buf: Buffer, truncated: boolean): string {
  // A truncated text is still over the limit, so the parser refuses it with its own message.
  if (truncated) return buf.toString('latin1');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    // Not UTF-8: hand the parser text with a NUL so it reports "not a text file".
    return '\u0000';
  }
}

function stageNames(m: Manifest | undefined): string[] {
  if (!m) return [];
  const names = m.stages.map((s) => s.name);
  return names.includes('git-clone') ? names : ['git-clone', ...names];
}

const strip = (p: Problem) => ({ field: p.field, message: p.message });
const line = (p: Problem) => `  ${p.field || '(manifest)'}: ${p.message}\n`;

/** Validates the manifest and prints the result; see the module header for exit codes. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { options: { json: { type: 'boolean' } }, positionals: { names: ['FILE'] } });
  const json = values.json ?? false;
  const file = positionals[0] ?? '.estafette.yaml';
  let text: string;
  try {
    text = file === '-' ? await readStdin() : readManifest(file);
  } catch (err) {
    if (!(err instanceof UnreadableError)) throw err;
    process.stderr.write(`estafette validate: ${err.message}\n`);
    return 2;
  }
  const { manifest, errors, warnings } = loadManifest(text);
  if (json) {
    const out: ValidateJson = {
      valid: errors.length === 0,
      errors: errors.map(strip),
      warnings: warnings.map(strip),
      stages: stageNames(manifest),
      releases: manifest?.releases.map((r) => r.name) ?? [],
      triggers: manifest?.triggers.length ?? 0,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    if (errors.length) process.stdout.write(`errors:\n${errors.map(line).join('')}`);
    if (warnings.length) process.stdout.write(`warnings:\n${warnings.map(line).join('')}`);
    const counts = `${errors.length} error(s), ${warnings.length} warning(s)`;
    process.stdout.write(errors.length ? `${file}: invalid, ${counts}\n` : `${file}: valid, ${counts}\n`);
  }
  return errors.length ? 1 : 0;
}
