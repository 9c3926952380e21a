/**
 * The real Estafette manifests in `../shared/fixtures/estafette` (beside the clone, never copied
 * in). A clone placed elsewhere has no such folder: the suites that read it skip with one line —
 * or, under REQUIRE_SERVICES=1 (set by .ci/run), fail, because CI must check them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REQUIRE_SERVICES } from './services.ts';

/** Where the fixtures are expected. */
export const SHARED_FIXTURES_DIR = fileURLToPath(new URL('../../../shared/fixtures/estafette/', import.meta.url));

/** One fixture manifest. */
export interface SharedFixture {
  file: string;
  path: string;
  text: string;
}

/** The fixtures, sorted by name; empty when the folder is absent. Safe to call at import time. */
export function sharedFixtures(): SharedFixture[] {
  if (!existsSync(SHARED_FIXTURES_DIR)) return [];
  return readdirSync(SHARED_FIXTURES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const path = join(SHARED_FIXTURES_DIR, file);
      return { file, path, text: readFileSync(path, 'utf8') };
    });
}

/** Skips the suite (from a `before` hook, with its `this`) when the folder is absent; throws under REQUIRE_SERVICES=1. */
export function requireSharedFixtures(ctx: Mocha.Context): void {
  if (existsSync(SHARED_FIXTURES_DIR)) return;
  if (REQUIRE_SERVICES) throw new Error(`REQUIRE_SERVICES=1 but the Estafette fixtures are missing: ${SHARED_FIXTURES_DIR}`);
  console.warn(`\n  ⚠ SKIPPED (no ${SHARED_FIXTURES_DIR}: the real Estafette manifests live beside the clone)`);
  ctx.skip();
}
