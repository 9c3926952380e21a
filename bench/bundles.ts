/**
 * The production artifacts themselves: each bundle's size, what it reads before it listens,
 * what its entry imports right behind the bound port, and what loads only when a code path needs
 * it (from dist/bundles.json, which `npm run build` writes from esbuild's metafile). Not timed:
 * sizes are exact, so this section has no baseline.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BundleReport, LoadPhase } from '../scripts/bundle.ts';
import { section, table, writeSection } from './report.ts';

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`;

/** Writes the section from the current dist/ (bench/run.ts builds it first). */
export async function run(): Promise<void> {
  const reports = JSON.parse(readFileSync(fileURLToPath(new URL('../dist/bundles.json', import.meta.url)), 'utf8')) as BundleReport[];
  const phase = (r: BundleReport, p: LoadPhase) => r.lazy.filter((c) => c.phase === p);
  const top = (chunks: BundleReport['lazy'], n = 6) => [...new Set(chunks.flatMap((c) => c.packages.filter((p) => p !== '(own code)')))].slice(0, n).join(', ');
  const rows = reports.map((r) => {
    const behind = phase(r, 'behind');
    const onDemand = phase(r, 'on-demand');
    return [`dist/${r.bundle}`, kb(r.entryBytes), kb(behind.reduce((n, c) => n + c.bytes, 0)), top(behind), kb(onDemand.reduce((n, c) => n + c.bytes, 0)), top(onDemand, 4)];
  });
  const tbl = table(['bundle', 'read at start', 'imported by the entry at once', 'main packages', 'only when needed', 'main packages'], rows);
  console.log(tbl);
  const body = `From \`dist/bundles.json\` (\`npm run build\`; esbuild's metafile). A function's entry binds its port and answers \`/liveness\` with only what is "read at start"; the chunks "imported by the entry at once" (functions-framework, the composition root, the logger, the database and NATS clients) load right behind the bound port and serve every other request; "only when needed" is what a code path imports on first use — the Kubernetes client for the first Job (build-dispatch and cron-relay also start loading it in the background once they serve), the docker executor for a docker build, a CLI command's own code.\n\n${tbl}\n`;
  writeSection('bundles', section('Bundles', body));
}
