// Copies an esbuild entry of dist/ with exactly the chunks it loads: every static import
// (`import "./x.mjs"`, `from "./x.mjs"`), and of its dynamic imports (`import("./x.mjs")`) only
// those whose file name contains one of the given words — e.g. the CLI with the `migrate` command
// and nothing else. Source maps are left out (no image runs with --enable-source-maps).
// Plain JavaScript, run by `node` in a Dockerfile stage:
//   node bundle-closure.mjs <dist dir> <entry file> <out dir> [dynamic-import word ...]
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dist, entry, out, ...words] = process.argv.slice(2);
if (!dist || !entry || !out) {
  process.stderr.write('usage: node bundle-closure.mjs <dist dir> <entry file> <out dir> [dynamic-import word ...]\n');
  process.exit(2);
}
const STATIC = /(?:^|[\s;])(?:import|export)\s*(?:[^'"();]*?\sfrom\s*)?["'](\.\/[^"']+\.mjs)["']/g;
const DYNAMIC = /\bimport\(\s*["'](\.\/[^"']+\.mjs)["']\s*\)/g;

const seen = new Set();
const visit = (file) => {
  if (seen.has(file)) return;
  const path = join(dist, file);
  if (!existsSync(path)) throw new Error(`${file} is imported but missing from ${dist}`);
  seen.add(file);
  const text = readFileSync(path, 'utf8');
  for (const [, rel] of text.matchAll(STATIC)) visit(rel.slice(2));
  for (const [, rel] of text.matchAll(DYNAMIC)) if (words.some((w) => rel.includes(w))) visit(rel.slice(2));
};
visit(entry);
mkdirSync(out, { recursive: true });
for (const file of [...seen].sort()) {
  copyFileSync(join(dist, file), join(out, file));
  if (existsSync(join(dist, `${file}.LEGAL.txt`))) copyFileSync(join(dist, `${file}.LEGAL.txt`), join(out, `${file}.LEGAL.txt`));
  process.stdout.write(`${file}\n`);
}
