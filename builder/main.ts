/**
 * The builder program, run inside a build's Job: `node --import tsx builder/main.ts` with
 * BUILDER_CONFIG_PATH naming its config. Validates the config at the edge, runs the build with
 * the configured executor, ships logs and status to log-ingest, and exits 0 whenever it reported
 * a result (so Kubernetes never restarts a build) — non-zero only when it could not report.
 * SIGTERM (cancel) stops the running stage within the grace period and reports `canceled`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { BuilderConfig } from '../shared/plan/builder-config.ts';
import { ingestOf, parseBuilderConfig } from './config.ts';
import { createExecutor } from './executors/create-executor.ts';
import { createLogShipper } from './log-shipper.ts';
import { runBuild } from './run-build.ts';

const fail = (message: string): number => {
  process.stderr.write(`builder: ${message}\n`);
  return 1;
};

/** Ends a build whose config is unusable with a failed `init` step, if reporting is possible. */
async function reportInitFailure(raw: unknown, message: string): Promise<number> {
  const ingest = ingestOf(raw);
  if (!ingest) return fail(`${message} (and no usable ingest url/token/job to report it)`);
  const reporter = createLogShipper(ingest);
  reporter.line('init', 1, 'stderr', message);
  reporter.status({ stages: [{ stage: 'init', run: 1, kind: 'builtin', status: 'failed', message }], status: 'failed' });
  return (await reporter.close()) ? 0 : fail('could not report the failed init step');
}

/** Runs the builder; resolves to the process exit code. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const path = env.BUILDER_CONFIG_PATH;
  if (!path) return fail('BUILDER_CONFIG_PATH is not set');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return fail(`cannot read the config ${path}: ${(err as Error).message}`);
  }
  let config: BuilderConfig;
  try {
    config = parseBuilderConfig(raw);
  } catch (err) {
    return reportInitFailure(raw, (err as Error).message);
  }

  const cancel = new AbortController();
  const onSignal = (): void => cancel.abort();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const reporter = createLogShipper({ ...config.ingest, kind: config.job.kind, id: config.job.id });
  try {
    mkdirSync(config.workDir, { recursive: true });
    const executor = await createExecutor(config.executor);
    await runBuild(config, { executor, reporter, cancel: cancel.signal });
  } catch (err) {
    // A bug or a broken executor: still end the build as failed rather than leave it running.
    const message = `builder error: ${(err as Error).message}`;
    reporter.line('init', 1, 'stderr', message);
    reporter.status({ stages: [{ stage: 'init', run: 1, kind: 'builtin', status: 'failed', message }], status: 'failed' });
  }
  return (await reporter.close()) ? 0 : fail('could not report the build result to log-ingest');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await main());
}
