/**
 * File and branch globs of the scheduling keys — `changed('services/api/**')` in `when`,
 * top-level `paths` / `ignorePaths`, `concurrency.cancelSuperseded: [branch globs]` — matched
 * with picomatch (bash-like: `*` within a path segment, `**` across segments, `{a,b}`, `[a-z]`,
 * `!(x)`), with dotfiles matched too (`docs/**` covers `docs/.vale.ini`). Paths are relative to
 * the repository root, `/`-separated, without a leading `./` or `/`.
 */
import picomatch from 'picomatch';

const OPTIONS: picomatch.PicomatchOptions = { dot: true };

// Bounds keep a hostile manifest from making huge regular expressions.
const MAX_GLOB_LENGTH = 1024;

/** A predicate for "matches any of `globs`" (none → matches nothing). */
export function globMatcher(globs: readonly string[]): (path: string) => boolean {
  if (globs.length === 0) return () => false;
  const m = picomatch(globs.map(normalisePath), OPTIONS);
  return (path) => m(normalisePath(path));
}

/** True when any of `paths` matches any of `globs`. */
export const anyMatches = (globs: readonly string[], paths: readonly string[]): boolean => {
  const m = globMatcher(globs);
  return paths.some(m);
};

/** `./a/b` and `/a/b` → `a/b` (forges and git list paths without either; users sometimes write them). */
const normalisePath = (p: string): string => p.replace(/^(\.\/|\/)+/, '');

/** The lint message for a glob, or undefined when it is usable. */
export function checkGlob(glob: string): string | undefined {
  if (glob.trim() === '') return 'a glob must not be empty';
  if (glob.length > MAX_GLOB_LENGTH) return `a glob longer than ${MAX_GLOB_LENGTH} characters`;
  try {
    picomatch.makeRe(glob, OPTIONS);
  } catch (err) {
    return `invalid glob '${glob}': ${(err as Error).message}`;
  }
  return undefined;
}
