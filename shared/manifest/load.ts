/**
 * Parse + lint in one call: what the dispatcher, query-api, builder and CLI use to read a
 * `.estafette.yaml`. The manifest is returned whenever it could be read, even with errors, so
 * callers can still show its stages; callers must not compile it while `errors` is non-empty.
 */
import { lintManifest } from './lint.ts';
import { parseManifest } from './parse.ts';
import type { Manifest, Problem } from './types.ts';

/** The outcome of reading a manifest: errors make it invalid; warnings are advice. */
export interface LoadedManifest {
  manifest?: Manifest;
  errors: Problem[];
  warnings: Problem[];
}

/** Parses and lints manifest text. Never throws. */
export function loadManifest(text: string): LoadedManifest {
  const { manifest, problems } = parseManifest(text);
  const all = manifest ? [...problems, ...lintManifest(manifest)] : problems;
  const out: LoadedManifest = {
    errors: all.filter((p) => p.severity === 'error'),
    warnings: all.filter((p) => p.severity === 'warning'),
  };
  if (manifest) out.manifest = manifest;
  return out;
}
