/**
 * The builder program, run inside a build's Job: `node --import tsx builder/main.ts` (or the
 * bundled dist/builder.mjs) with BUILDER_CONFIG_PATH naming its config. Reads the config once
 * and removes the file where it can (locally; a Kubernetes Secret mount is read-only), validates
 * it at the edge, runs the build with the configured executor, ships logs, status and heartbeats
 * to log-ingest, and exits 0 whenever it reported a result (so Kubernetes never restarts a
 * build) — non-zero only when it could not report.
 *
 * It stops the build (reported `canceled`) on SIGTERM/SIGINT, and — when the process that started
 * it gave it an IPC channel (the local runner) — as soon as that channel closes: the parent is
 * gone, even by `kill -9`, and the builder must not outlive it. Reports then get a few seconds
 * (the ingest may have gone with the parent). `removeOnExit` (the local job's temp dir) is
 * removed at the end in every case.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { HEARTBEAT_SECONDS } from '../shared/logs/protocol.ts';
import type { BuilderConfig } from '../shared/plan/builder-config.ts';
import { ingestOf, parseBuilderConfig } from './config.ts';
import { createExecutor } from './executors/create-executor.ts';
import { createLogShipper } from './log-shipper.ts';
import { runBuild } from './run-build.ts';

/** How long reports may still take once the process that started the builder is gone. */
export const ORPHAN_REPORT_MS = 5000;

const fail = (message: string): number => {
  process.stderr.write(`builder: ${message}\n`);
  return 1;
};

/** Removes a path, ignoring what cannot be removed (a read-only Secret mount). */
const removeQuietly = (path: string): void => {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // EROFS/EACCES: the file stays where the runner put it, readable by the builder only.
  }
};

/** Calls `onGone` when the parent's IPC channel closes; a no-op without one (Kubernetes). */
function watchParent(onGone: () => void): () => void {
  if (!process.channel) return () => undefined;
  // The channel must not keep the builder alive; it only tells it that the parent is gone.
  process.channel.unref();
  if (!process.connected) {
    onGone(); // gone before we listened
    return () => undefined;
  }
  process.once('disconnect', onGone);
  return () => process.off('disconnect', onGone);
}

/** Ends a build whose config is unusable with a failed `init` step, if reporting is possible. */
async function reportInitFailure(raw: unknown, message: string): Promise<number> {
  const ingest = ingestOf(raw);
  if (!ingest) return fail(`${message} (and no usable ingest url/token/job to report it)`);
  const reporter = createLogShipper(ingest);
  reporter.line('init', 1, 'stderr', message);
  reporter.status({ stages: [{ stage: 'init', run: 1, kind: 'builtin', status: 'failed', message }], status: 'failed' });
  return (await reporter.close()) ? 0 : fail('could not report the failed init step');
}

/** Runs the build of a validated config; resolves to the exit code. */
async function build(config: BuilderConfig): Promise<number> {
  const cancel = new AbortController();
  const reporter = createLogShipper({ ...config.ingest, kind: config.job.kind, id: config.job.id, heartbeatMs: (config.heartbeatSeconds ?? HEARTBEAT_SECONDS) * 1000 });
  const onSignal = (): void => cancel.abort();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const unwatch = watchParent(() => {
    cancel.abort();
    reporter.giveUpAfter(ORPHAN_REPORT_MS);
  });
  try {
    mkdirSync(config.workDir, { recursive: true });
    const executor = await createExecutor(config.executor);
    await runBuild(config, { executor, reporter, cancel: cancel.signal });
  } catch (err) {
    // A bug or a broken executor: still end the build as failed rather than leave it running.
    const message = `builder error: ${(err as Error).message}`;
    reporter.line('init', 1, 'stderr', message);
    reporter.status({ stages: [{ stage: 'init', run: 1, kind: 'builtin', status: 'failed', message }], status: 'failed' });
  } finally {
    unwatch();
  }
  return (await reporter.close()) ? 0 : fail('could not report the build result to log-ingest');
}

/** Runs the builder; resolves to the process exit code. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // With the parent gone its end of our stdout/stderr is closed: a write must not crash the build.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  const path = env.BUILDER_CONFIG_PATH;
  if (!path) return fail('BUILDER_CONFIG_PATH is not set');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return fail(`cannot read the config ${path}: ${(err as Error).message}`);
  } finally {
    // Read once: the token and the secrets' values are not left for anything else to read.
    removeQuietly(path);
  }
  let config: BuilderConfig;
  try {
    config = parseBuilderConfig(raw);
  } catch (err) {
    return reportInitFailure(raw, (err as Error).message);
  }
  try {
    return await build(config);
  } finally {
    if (config.removeOnExit) removeQuietly(config.removeOnExit);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await main());
}
