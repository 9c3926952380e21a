/**
 * Parse + lint in one call: what the dispatcher, query-api, builder and CLI use to read a
 * `.estafette.yaml`. The manifest is returned whenever it could be read, even with errors, so
 * callers can still show its stages; callers must not compile it while `errors` is non-empty.
 * Every problem whose field is written in the text (or sits under one that is) gets its line
 * and column from the parser's SourceMap, lint's semantic findings included.
 */
import { lintManifest } from './lint.ts';
import { parseManifest } from './parse.ts';
import type { SourceMap } from './source-map.ts';
import type { Manifest, Problem } from './types.ts';

/** The outcome of reading a manifest: errors make it invalid; warnings are advice. */
export interface LoadedManifest {
  manifest?: Manifest;
  errors: Problem[];
  warnings: Problem[];
}

/** The problem with the line and column of its field, when known and not already set. */
function located(p: Problem, source: SourceMap | undefined): Problem {
  if (p.line !== undefined || !source) return p;
  const at = source.locate(p.field);
  return at ? { ...p, ...at } : p;
}

/** Parses and lints manifest text. Never throws. */
export function loadManifest(text: string): LoadedManifest {
  const { manifest, problems, source } = parseManifest(text);
  const all = (manifest ? [...problems, ...lintManifest(manifest)] : problems).map((p) => located(p, source));
  const out: LoadedManifest = {
    errors: all.filter((p) => p.severity === 'error'),
    warnings: all.filter((p) => p.severity === 'warning'),
  };
  if (manifest) out.manifest = manifest;
  return out;
}
