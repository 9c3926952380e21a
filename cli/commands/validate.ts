/**
 * `estafette validate [FILE] [--json]`: parses and lints a manifest (default ./.estafette.yaml)
 * the way the server will, each problem with its field, line and column and, for the classic
 * YAML mistakes, a hint. Exit 0 when there is no error (warnings allowed), 1 when there are
 * errors, 2 when the file cannot be read or the arguments are wrong.
 */
import { loadManifest } from '../../shared/manifest/load.ts';
import type { Manifest, Problem } from '../../shared/manifest/types.ts';
import { parseCommandArgs } from '../args.ts';
import { readManifestFile, readManifestStdin, UnreadableError } from '../manifest-file.ts';

export const summary = 'check a .estafette.yaml for errors and warnings';
export const usage = 'estafette validate [FILE|-] [--json]';
export const details = `FILE defaults to ./.estafette.yaml; - reads the manifest from stdin. Each problem names its
field, line and column, and a hint for the classic YAML mistakes.

options:
  --json   print {valid, errors, warnings, stages, releases, triggers} as JSON

exit codes: 0 valid (warnings allowed), 1 errors, 2 unreadable file or wrong usage`;

/** One problem in `--json`: position and hint only when known. */
export interface ProblemJson {
  field: string;
  message: string;
  line?: number;
  column?: number;
  hint?: string;
}

/** The machine-readable result of `--json`. */
export interface ValidateJson {
  valid: boolean;
  errors: ProblemJson[];
  warnings: ProblemJson[];
  /** Top-level stage names in run order, the injected git-clone included. */
  stages: string[];
  releases: string[];
  /** Number of build triggers (top-level `triggers`). */
  triggers: number;
}

function stageNames(m: Manifest | undefined): string[] {
  if (!m) return [];
  const names = m.stages.map((s) => s.name);
  return names.includes('git-clone') ? names : ['git-clone', ...names];
}

/** A problem as `--json` prints it. */
export const problemJson = (p: Problem): ProblemJson => ({
  field: p.field,
  message: p.message,
  ...(p.line !== undefined ? { line: p.line, column: p.column } : {}),
  ...(p.hint ? { hint: p.hint } : {}),
});

/** A problem as one text line (and a hint line): `  stages.build.image (line 4, column 5): is required`. */
export const problemLine = (p: Problem): string => {
  // A YAML syntax error already names its line and column in the message.
  const at = p.line !== undefined && !p.message.includes(`line ${p.line}, column ${p.column}`) ? ` (line ${p.line}, column ${p.column})` : '';
  return `  ${p.field || '(manifest)'}${at}: ${p.message}\n${p.hint ? `    hint: ${p.hint}\n` : ''}`;
};

/** Validates the manifest and prints the result; see the module header for exit codes. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { options: { json: { type: 'boolean' } }, positionals: { names: ['FILE'] } });
  const json = values.json ?? false;
  const file = positionals[0] ?? '.estafette.yaml';
  let text: string;
  try {
    text = file === '-' ? await readManifestStdin() : readManifestFile(file);
  } catch (err) {
    if (!(err instanceof UnreadableError)) throw err;
    process.stderr.write(`estafette validate: ${err.message}\n`);
    return 2;
  }
  const { manifest, errors, warnings } = loadManifest(text);
  if (json) {
    const out: ValidateJson = {
      valid: errors.length === 0,
      errors: errors.map(problemJson),
      warnings: warnings.map(problemJson),
      stages: stageNames(manifest),
      releases: manifest?.releases.map((r) => r.name) ?? [],
      triggers: manifest?.triggers.length ?? 0,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    if (errors.length) process.stdout.write(`errors:\n${errors.map(problemLine).join('')}`);
    if (warnings.length) process.stdout.write(`warnings:\n${warnings.map(problemLine).join('')}`);
    const counts = `${errors.length} error(s), ${warnings.length} warning(s)`;
    process.stdout.write(errors.length ? `${file}: invalid, ${counts}\n` : `${file}: valid, ${counts}\n`);
  }
  return errors.length ? 1 : 0;
}
