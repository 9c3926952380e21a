/**
 * The bundle budget, run by `npm run build` after `vite build`: prints every JS/CSS file of
 * frontend/dist with its gzipped size, marks what the first page load downloads (the entry
 * chunk and its static imports — lazy chunks such as uPlot are not counted), and exits 1 when
 * the initial JavaScript is over 100 KB gzipped.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Budget for the initial JavaScript, gzipped. */
export const INITIAL_JS_BUDGET = 100 * 1024;

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const manifestPath = join(dist, '.vite', 'manifest.json');
if (!existsSync(manifestPath)) {
  console.error(`check-bundle: ${manifestPath} is missing — run vite build first`);
  process.exit(1);
}
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, ManifestChunk>;

// The initial set: entries plus everything they import statically, transitively.
const initial = new Set<string>();
const visit = (key: string) => {
  const chunk = manifest[key];
  if (!chunk || initial.has(chunk.file)) return;
  initial.add(chunk.file);
  chunk.css?.forEach((c) => initial.add(c));
  chunk.imports?.forEach(visit);
};
Object.entries(manifest)
  .filter(([, c]) => c.isEntry)
  .forEach(([k]) => visit(k));

const gz = (file: string) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const kb = (n: number) => `${(n / 1024).toFixed(1).padStart(6)} KB`;
const files = readdirSync(join(dist, 'assets'))
  .filter((f) => /\.(js|css)$/.test(f))
  .map((f) => `assets/${f}`)
  .sort();

let initialJs = 0;
console.log('bundle (gzipped):');
for (const f of files) {
  const size = gz(f);
  const isInitial = initial.has(f);
  if (isInitial && f.endsWith('.js')) initialJs += size;
  console.log(`  ${kb(size)}  ${isInitial ? 'initial' : 'lazy   '}  ${f}`);
}
const ok = initialJs <= INITIAL_JS_BUDGET;
console.log(`initial JS: ${kb(initialJs).trim()} of ${kb(INITIAL_JS_BUDGET).trim()} budget — ${ok ? 'OK' : 'OVER BUDGET'}`);
process.exit(ok ? 0 : 1);
