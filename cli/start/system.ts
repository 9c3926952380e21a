/**
 * The whole system in one process (the local mode behind `estafette start`): the five
 * functions, each built by the same composition root (`functions/<name>/wire.ts`) its Knative
 * Service runs, behind one HTTP server routed like the HTTPRoute; the bus delivery loop in place
 * of Knative Triggers; a timer in place of the PingSource; the local job runner in place of
 * Kubernetes Jobs. Defaults need nothing but Node.js: an embedded PostgreSQL and a durable bus
 * on it (shared/bus/postgres.ts: a push answered 202 survives kill -9); DATABASE_URL and
 * NATS_URL switch to real servers.
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import type pg from 'pg';
import { builderEnv, parseCliConfig, parseConfig, type Config } from '../../shared/config/config.ts';
import { createPool } from '../../shared/db/pool.ts';
import { migrate } from '../../shared/db/migrate.ts';
import type { Subscription } from '../../shared/bus/index.ts';
import { connectPostgresBus } from '../../shared/bus/postgres.ts';
import { consumeEvent } from '../../shared/events/consume.ts';
import { allReady } from '../../shared/http/health.ts';
import { toNodeListener } from '../../shared/http/node-adapter.ts';
import { LocalJobRunner } from '../../shared/jobs/local-runner.ts';
import { errorMessage, safeUrl, type Logger } from '../../shared/log/logger.ts';
import { Runtime, publisher, type RuntimeParts } from '../../shared/runtime/runtime.ts';
import type { Wire, WiredFunction } from '../../shared/runtime/wired-function.ts';
import { packagePath } from '../../shared/runtime/package-path.ts';
import { startTracingIfConfigured, type StopTracing } from '../../shared/trace/tracing.ts';
import type { JobRef } from '../../shared/jobs/runner.ts';
import { wire as wireWebhookIngest } from '../../functions/webhook-ingest/wire.ts';
import { wire as wireBuildDispatch } from '../../functions/build-dispatch/wire.ts';
import { wire as wireLogIngest } from '../../functions/log-ingest/wire.ts';
import { wire as wireCronRelay, SOURCE as CRON_SOURCE } from '../../functions/cron-relay/wire.ts';
import { reconcileJobs } from '../../functions/cron-relay/housekeeping.ts';
import { wire as wireQueryApi } from '../../functions/query-api/wire.ts';
import { startDatabase, type LocalDatabase } from './database.ts';
import { loadSettings, stateDir, type LocalSettings } from './state.ts';
import { routeFunctions } from './router.ts';
import { claimStateDir } from './running-server.ts';

export interface SystemOptions {
  executor: 'host' | 'docker';
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** How this process exports spans (default: by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; tests record them in memory). */
  startTracing?: (endpoint: string | undefined, serviceName: string) => Promise<StopTracing>;
}

export interface RunningSystem {
  url: string;
  port: number;
  stateDir: string;
  webhookToken: string;
  settings: LocalSettings;
  databaseDescription: string;
  busDescription: string;
  pool: pg.Pool;
  runner: LocalJobRunner;
  /** Publishes a cron tick now (tests; the timer does this each minute). */
  tick(time?: Date): Promise<void>;
  /** Cancels running builds (they report `canceled`), then stops everything, the database last. */
  stop(): Promise<void>;
  /** The forced stop (a second Ctrl-C): stops the database at once (immediate shutdown); the caller then exits. */
  kill(): Promise<void>;
}

/** How often the local mode runs housekeeping: a sixth of the heartbeat timeout, at most 5 s (one indexed query when nothing is stale). */
export const housekeepingIntervalMs = (heartbeatTimeoutSeconds: number): number => Math.min(5_000, (heartbeatTimeoutSeconds * 1000) / 6);

/** The built web UI, when `npm run build` has made it. */
const UI_DIR = packagePath('frontend/dist/');

/** Listens on `port` (0 = any); a taken port is one clear error. */
async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code === 'EADDRINUSE' ? `port ${port} is already in use (set PORT to another port)` : `cannot listen on port ${port}: ${err.message}`)));
    server.listen(port, resolve);
  });
  return (server.address() as { port: number }).port;
}

const WIRES: Record<string, Wire> = {
  'webhook-ingest': wireWebhookIngest,
  'build-dispatch': wireBuildDispatch,
  'log-ingest': wireLogIngest,
  'cron-relay': wireCronRelay,
  'query-api': wireQueryApi,
};

/**
 * One line of a builder's output in this process's log: the builder's own structured lines
 * (JSON, with their level, ids and traceId) keep their fields; anything else is a plain line.
 */
function logBuilderLine(log: Logger, ref: JobRef, line: string): void {
  const ids = { function: 'builder', [`${ref.kind}Id`]: ref.id };
  let record: Record<string, unknown> | undefined;
  if (line.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) record = parsed as Record<string, unknown>;
    } catch {
      // not one of the builder's JSON lines
    }
  }
  if (!record) return log.info(ids, line);
  const { level, msg, time: _time, ...fields } = record;
  const write = typeof level === 'string' && ['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(level) ? (level as 'info') : 'info';
  log[write]({ ...fields, ...ids }, typeof msg === 'string' ? msg : line);
}

/** Starts the system; resolves once it serves requests. */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const env = options.env ?? process.env;
  const log = options.log;
  const cli = parseCliConfig(env);
  const dir = stateDir(env);
  const settings = loadSettings(dir, { ...(cli.webhookToken ? { webhookToken: cli.webhookToken } : {}), ...(cli.secretKey ? { secretKey: cli.secretKey } : {}), ...(cli.jwtKey ? { jwtKey: cli.jwtKey } : {}) });
  // Parsed once up front (with the generated keys), so a bad value stops start-up with one line naming the variable.
  const given = parseConfig({
    ...env,
    JOB_RUNNER: 'local',
    ESTAFETTE_EXECUTOR: options.executor,
    ESTAFETTE_WEBHOOK_TOKEN: settings.webhookToken,
    ESTAFETTE_SECRET_KEY: settings.secretKey,
    ESTAFETTE_JWT_KEY: settings.jwtKey,
  });
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch((err) => log.warn({ error: errorMessage(err) }, 'stop step failed'));
  };
  // One `estafette start` per state folder: a second one says so before it touches the database.
  const release = claimStateDir(dir);
  cleanups.push(async () => release());
  let database: LocalDatabase | undefined;

  try {
    // The HTTP server first: its port is part of the URLs builders report to.
    const server = createServer();
    const port = await listen(server, given.port);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const url = `http://localhost:${port}`;
    const uiBuilt = existsSync(`${UI_DIR}index.html`);
    const config: Config = parseConfig({
      ...env,
      PORT: String(port),
      JOB_RUNNER: 'local',
      ESTAFETTE_EXECUTOR: options.executor,
      ESTAFETTE_WEBHOOK_TOKEN: settings.webhookToken,
      ESTAFETTE_SECRET_KEY: settings.secretKey,
      ESTAFETTE_JWT_KEY: settings.jwtKey,
      ESTAFETTE_LOG_INGEST_URL: `http://127.0.0.1:${port}`,
      ESTAFETTE_UI_DIR: given.uiDir ?? (uiBuilt ? UI_DIR : undefined),
      K_SINK: undefined,
    });

    const stopTracing = await (options.startTracing ?? startTracingIfConfigured)(config.otlpEndpoint, 'estafette');
    cleanups.push(stopTracing);

    database = await startDatabase(dir, given.databaseUrl, (l) => log.warn(l));
    const db = database;
    cleanups.push(() => db.stop());
    const pool = createPool(database.url, { log });
    cleanups.push(() => pool.end());
    await migrate(pool);

    const runner = new LocalJobRunner({
      log,
      env: builderEnv(env),
      onOutput: (ref, text) => {
        for (const line of text.split('\n')) if (line.trim()) logBuilderLine(log, ref, line);
      },
    });
    // Without NATS the bus is a queue on this database, so an accepted event survives a crash;
    // this server is its only consumer, so what a crashed run held is redelivered at once.
    const durableBus = config.natsUrl ? undefined : await connectPostgresBus({ pool, url: database.url, log, releaseLocks: true });
    if (durableBus) cleanups.push(() => durableBus.close());
    // One Runtime makes the bus and live logs (one NATS connection, or the database queue and
    // in-process live logs); each function then gets a Runtime over the same parts with its own
    // name on its log lines.
    const shared = new Runtime(config, log, { pool, jobRunner: runner, ...(durableBus ? { bus: durableBus } : {}) });
    let parts: RuntimeParts;
    try {
      parts = { pool, jobRunner: runner, bus: await shared.bus(), liveLogs: await shared.liveLogs(), outcomes: await shared.outcomes() };
    } catch (err) {
      throw new Error(`cannot connect to NATS_URL (${safeUrl(config.natsUrl ?? '')}): ${errorMessage(err)}`);
    }
    cleanups.push(() => shared.close());

    const fns: Record<string, WiredFunction> = {};
    for (const [name, wire] of Object.entries(WIRES)) fns[name] = wire(new Runtime(config, log.child({ function: name }), parts));

    const subscriptions: Subscription[] = [];
    for (const fn of Object.values(fns)) {
      if (fn.consumer) subscriptions.push(await parts.bus.subscribe(fn.name, fn.consumer.types, (ce) => consumeEvent(fn.name, ce, () => fn.consumer!.handle(ce))));
    }
    cleanups.push(async () => {
      for (const s of subscriptions) await s.stop();
      // Each was logged once when it was dead-lettered; say how many are left unhandled.
      const dead = await parts.bus.deadLetters();
      if (dead.length > 0) log.warn({ deadLetters: dead.length }, `${dead.length} event(s) were dead-lettered while running (logged when each was)`);
    });

    const handler = routeFunctions({ webhookIngest: fns['webhook-ingest']!.http, logIngest: fns['log-ingest']!.http, queryApi: fns['query-api']!.http }, () => allReady(Object.values(fns).map((f) => () => f.ready())));
    server.on('request', toNodeListener(handler, { maxBodyBytes: config.maxWebhookBytes, log, name: 'estafette' }));
    if (!uiBuilt) log.warn('web UI not built (run `npm run build`): serving the API only');

    const publishTick = publisher(parts.bus, CRON_SOURCE);
    const tick = async (time = new Date()) => void (await publishTick('cron.tick', { time: time.toISOString() }));
    const every = config.cronIntervalMs;
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      timer = setTimeout(
        () => {
          tick().catch((err) => log.warn({ error: errorMessage(err) }, 'cron tick failed'));
          schedule();
        },
        every - (Date.now() % every) + 50,
      );
      timer.unref();
    };
    schedule();
    cleanups.push(async () => clearTimeout(timer));

    // Housekeeping more often than the minute tick: a build whose builder died with a previous
    // server (kill -9) is ended within seconds of its heartbeat timeout, not minutes.
    const housekeepingDeps = {
      pool,
      publish: new Runtime(config, log.child({ function: 'cron-relay' }), parts).publisher(CRON_SOURCE),
      runner,
      log: log.child({ function: 'cron-relay' }),
      housekeeping: { activeGraceMs: config.heartbeatTimeoutSeconds * 1000 },
    };
    let housekeeping: Promise<unknown> = Promise.resolve();
    const keepHouse = () => {
      housekeeping = reconcileJobs(housekeepingDeps).catch((err) => log.warn({ error: errorMessage(err) }, 'housekeeping failed; it runs again shortly'));
    };
    keepHouse();
    const houseTimer = setInterval(keepHouse, housekeepingIntervalMs(config.heartbeatTimeoutSeconds));
    houseTimer.unref();
    cleanups.push(async () => {
      clearInterval(houseTimer);
      await housekeeping;
    });
    // Registered last so it runs first on stop: builders report `canceled` while the server is up.
    cleanups.push(() => runner.close());

    return {
      url,
      port,
      stateDir: dir,
      webhookToken: settings.webhookToken,
      settings,
      databaseDescription: db.kind === 'embedded' ? `embedded PostgreSQL (${dir}/pg)` : 'PostgreSQL at DATABASE_URL',
      busDescription: durableBus ? 'PostgreSQL queue (durable)' : `NATS JetStream at ${safeUrl(config.natsUrl ?? '')}`,
      pool,
      runner,
      tick,
      stop: cleanup,
      // Builders are not killed: they see this process go (their IPC channel closes), cancel
      // their stages and remove their temp dirs themselves.
      kill: async () => {
        await database?.kill();
        release();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
