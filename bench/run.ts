/**
 * `npm run bench [-- --full] [-- --only <name>[,<name>…]]`: runs every benchmark in bench/ one
 * after the other (they share two cores, so never in parallel), each at the quick size unless
 * --full. Each one prints its table and rewrites its own section of docs/PERFORMANCE.md. A
 * benchmark that fails is reported and the others still run; the exit code is 1 if any failed.
 */
const BENCHES = ['bundles', 'webhook-ingest', 'push-to-build', 'cold-start', 'builder-overhead', 'scale', 'log-ingest', 'query', 'ui-log'] as const;

interface Args {
  full: boolean;
  only?: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { full: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--full') args.full = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v) throw new Error('--only needs a benchmark name');
      args.only = v.split(',');
    } else throw new Error(`unknown argument ${a} (usage: npm run bench -- [--full] [--only ${BENCHES.join('|')}])`);
  }
  for (const n of args.only ?? []) if (!(BENCHES as readonly string[]).includes(n)) throw new Error(`no benchmark '${n}' (one of ${BENCHES.join(', ')})`);
  return args;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  // Every benchmark runs the functions as production does: from their bundles, built from these sources.
  const { bundle } = await import('../scripts/bundle.ts');
  await bundle({ quiet: true });
  const failed: string[] = [];
  const t0 = Date.now();
  for (const name of args.only ?? BENCHES) {
    let mod: { run(o: { full: boolean }): Promise<void> };
    try {
      mod = await import(`./${name}.ts`);
    } catch (err) {
      // log-ingest/query come from another issue; until they exist the rest still runs.
      console.log(`\n== ${name}: not available (${(err as Error).message.split('\n')[0]})`);
      if (args.only) failed.push(name);
      continue;
    }
    console.log(`\n== ${name} (${args.full ? 'full' : 'quick'})`);
    const t = Date.now();
    try {
      await mod.run({ full: args.full });
      console.log(`== ${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    } catch (err) {
      failed.push(name);
      console.error(`== ${name} failed: ${(err as Error).stack ?? err}`);
    }
  }
  console.log(`\nall benchmarks done in ${((Date.now() - t0) / 1000).toFixed(1)} s${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
  return failed.length ? 1 : 0;
}

process.exitCode = await main();
