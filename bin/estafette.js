#!/usr/bin/env node
// Entry point of the `estafette` CLI. It runs the bundle dist/cli.mjs (made by `npm run build`,
// which `npm install` runs) — no TypeScript loader. In a checkout whose sources changed since that
// build, it runs the sources through tsx instead and says so, so a developer never runs stale code.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const bundle = `${root}dist/cli.mjs`;
const SOURCES = ['cli', 'shared', 'functions', 'builder', 'knative/functions.json'];

/** Newest modification time under `path` (a file or a folder), 0 when absent. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let t = 0;
  for (const e of readdirSync(path)) t = Math.max(t, newest(`${path}/${e}`));
  return t;
}

let main;
const built = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
if (built && SOURCES.every((s) => newest(`${root}${s}`) <= built)) {
  ({ main } = await import(bundle));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  if (existsSync(`${root}cli/main.ts`)) {
    process.stderr.write(`estafette: ${built ? 'sources changed since the last build' : 'not built'}; running them through tsx (npm run build makes dist/)\n`);
  }
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
