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
 *
 * Its own messages are structured log lines on stderr (`function: builder`, the job's id and the
 * trace id); the build runs in a span continuing the config's `traceparent`, every report carries
 * that trace's `traceparent` header, and with OTEL_EXPORTER_OTLP_ENDPOINT set the spans are
 * exported and flushed before the process exits.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseBuilderSettings, type BuilderSettings } from '../shared/config/config.ts';
import { createLogger, errorMessage, type Logger } from '../shared/log/logger.ts';
import { HEARTBEAT_SECONDS } from '../shared/logs/protocol.ts';
import type { BuilderConfig } from '../shared/plan/builder-config.ts';
import { continueTrace, currentTraceparent, startTracingIfConfigured } from '../shared/trace/tracing.ts';
import { ingestOf, parseBuilderConfig } from './config.ts';
import { createExecutor } from './executors/create-executor.ts';
import { createLogShipper } from './log-shipper.ts';
import { runBuild } from './run-build.ts';

/** How long reports may still take once the process that started the builder is gone. */
export const ORPHAN_REPORT_MS = 5000;

/** The builder's own log: JSON lines on stderr (the local runner and the pod's log collect them). */
const builderLog = (level: BuilderSettings['logLevel']): Logger => createLogger({ name: 'builder', level, destination: process.stderr });

/** Logs why the builder cannot go on; the exit code of that. */
const fail = (log: Logger, message: string): number => {
  log.error(message);
  return 1;
};

/** The log-line id of a job: `buildId`, `releaseId` or `botId`. */
const jobIds = (job: { kind: string; id: string }): Record<string, string> => ({ [`${job.kind}Id`]: job.id });

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
async function reportInitFailure(raw: unknown, message: string, parentLog: Logger): Promise<number> {
  const ingest = ingestOf(raw);
  if (!ingest) return fail(parentLog, `${message} (and no usable ingest url/token/job to report it)`);
  const log = parentLog.child(jobIds(ingest));
  const traceparent = (raw as { traceparent?: unknown }).traceparent;
  return continueTrace(`${ingest.kind} init`, traceparent, { attributes: jobIds(ingest) }, async () => {
    log.error({ error: message }, 'invalid builder config: the build fails in its init step');
    const reporter = createLogShipper({ ...ingest, ...traceHeader(), warn: (m) => log.warn(m) });
    reporter.line('init', 1, 'stderr', message);
    reporter.status({ stages: [{ stage: 'init', run: 1, kind: 'builtin', status: 'failed', message }], status: 'failed' });
    return (await reporter.close()) ? 0 : fail(log, 'could not report the failed init step');
  });
}

/** The active trace as the reports' `traceparent` header. */
const traceHeader = (): { traceparent?: string } => {
  const traceparent = currentTraceparent();
  return traceparent ? { traceparent } : {};
};

/** Runs the build of a validated config in a span of the dispatch's trace; resolves to the exit code. */
function build(config: BuilderConfig, parentLog: Logger): Promise<number> {
  const log = parentLog.child(jobIds(config.job));
  const attributes = { ...jobIds(config.job), 'estafette.executor': config.executor };
  return continueTrace(`${config.job.kind} ${config.plan.repoOwner}/${config.plan.repoName}`, config.traceparent, { attributes }, () => runJob(config, log));
}

async function runJob(config: BuilderConfig, log: Logger): Promise<number> {
  const cancel = new AbortController();
  const reporter = createLogShipper({
    ...config.ingest,
    kind: config.job.kind,
    id: config.job.id,
    heartbeatMs: (config.heartbeatSeconds ?? HEARTBEAT_SECONDS) * 1000,
    ...traceHeader(),
    warn: (m) => log.warn(m),
  });
  log.info({ pipeline: `${config.plan.repoSource}/${config.plan.repoOwner}/${config.plan.repoName}`, executor: config.executor, stages: config.plan.stages.length }, `${config.job.kind} ${config.job.id} started`);
  const startedAt = Date.now();
  let status = 'failed';
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
    status = (await runBuild(config, { executor, reporter, cancel: cancel.signal })).status;
  } catch (err) {
    // A bug or a broken executor: still end the build as failed rather than leave it running.
    const message = `builder error: ${(err as Error).message}`;
    log.error({ error: errorMessage(err) }, 'builder error: the build is reported failed');
    reporter.line('init', 1, 'stderr', message);
    reporter.status({ stages: [{ stage: 'init', run: 1, kind: 'builtin', status: 'failed', message }], status: 'failed' });
  } finally {
    unwatch();
  }
  const delivered = await reporter.close();
  log.info({ status, durationMs: Date.now() - startedAt }, `${config.job.kind} ${config.job.id} ${status}`);
  return delivered ? 0 : fail(log, 'could not report the build result to log-ingest');
}

/** Runs the builder; resolves to the process exit code. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // With the parent gone its end of our stdout/stderr is closed: a write must not crash the build.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  let settings: BuilderSettings;
  try {
    settings = parseBuilderSettings(env);
  } catch (err) {
    return fail(builderLog('info'), errorMessage(err));
  }
  const log = builderLog(settings.logLevel);
  const path = settings.configPath;
  if (!path) return fail(log, 'BUILDER_CONFIG_PATH is not set');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return fail(log, `cannot read the config ${path}: ${(err as Error).message}`);
  } finally {
    // Read once: the token and the secrets' values are not left for anything else to read.
    removeQuietly(path);
  }
  const stopTracing = await startTracingIfConfigured(settings.otlpEndpoint, 'builder');
  try {
    let config: BuilderConfig;
    try {
      config = parseBuilderConfig(raw);
    } catch (err) {
      return await reportInitFailure(raw, (err as Error).message, log);
    }
    try {
      return await build(config, log);
    } finally {
      if (config.removeOnExit) removeQuietly(config.removeOnExit);
    }
  } finally {
    await stopTracing();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(await main());
}
