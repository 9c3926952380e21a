/**
 * The whole system in one process (the local mode behind `estafette start`): the five
 * functions' handlers — the same makeHandler()s Knative runs — behind one HTTP server, the bus
 * delivery loop in place of Knative Triggers, a timer in place of the PingSource, and the local
 * job runner in place of Kubernetes Jobs. Defaults need nothing but Node.js: an embedded
 * PostgreSQL and an in-memory bus; DATABASE_URL and NATS_URL switch to real servers.
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { parseConfig, type Config } from '../../shared/config/config.ts';
import { createPool } from '../../shared/db/pool.ts';
import { migrate } from '../../shared/db/migrate.ts';
import { deliverySeen, recordDelivery } from '../../shared/db/deliveries.ts';
import { createBus, deadLetterLine, type Bus, type Subscription } from '../../shared/bus/index.ts';
import { connectLiveLogs, MemoryLiveLogs, type LiveLogs } from '../../shared/bus/live-logs.ts';
import { eventType, type EventName } from '../../shared/events/types.ts';
import { parseEvent } from '../../shared/events/validate.ts';
import { busConfigOf, publisher } from '../../shared/runtime/runtime.ts';
import { toNodeListener } from '../../shared/http/node-adapter.ts';
import { LocalJobRunner } from '../../shared/jobs/local-runner.ts';
import { scmRouter } from '../../shared/scm/select.ts';
import { makeHandler as makeWebhookIngest } from '../../functions/webhook-ingest/handler.ts';
import { makeHandler as makeBuildDispatch } from '../../functions/build-dispatch/handler.ts';
import { makeHandler as makeCronRelay } from '../../functions/cron-relay/handler.ts';
import { makeLogIngest, makeQueryApi } from './api-handlers.ts';
import { startDatabase, type LocalDatabase } from './database.ts';
import { loadSettings, stateDir, type LocalSettings } from './state.ts';
import { routeFunctions } from './router.ts';
import functionsSpec from '../../knative/functions.json' with { type: 'json' };

/** The events a function consumes: the same list the Knative Triggers are made from. */
function consumedBy(name: string): EventName[] {
  const fn = functionsSpec.functions.find((f) => f.name === name);
  if (!fn) throw new Error(`knative/functions.json has no function ${name}`);
  return fn.consumes as EventName[];
}

export interface SystemOptions {
  executor: 'host' | 'docker';
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** How often the cron timer ticks (default every minute, on the minute; ESTAFETTE_CRON_INTERVAL_MS). */
  cronIntervalMs?: number;
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
  /** Cancels running builds (they report `canceled`), then stops everything. */
  stop(): Promise<void>;
}

const UI_DIR = fileURLToPath(new URL('../../frontend/dist/', import.meta.url));

/** Listens on `port` (0 = any); a taken port is one clear error. */
async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `port ${port} is already in use (set PORT to another port)` : `cannot listen on port ${port}: ${err.message}`)),
    );
    server.listen(port, resolve);
  });
  return (server.address() as { port: number }).port;
}

/** Starts the system; resolves once it serves requests. */
export async function startSystem(options: SystemOptions): Promise<RunningSystem> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((l: string) => console.log(l));
  const dir = stateDir(env);
  const settings = loadSettings(dir, env);
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch((err) => log(`stop: ${(err as Error).message}`));
  };

  try {
    // The HTTP server first: its port is part of the URLs builders report to.
    const server = createServer();
    const port = await listen(server, Number(env.PORT ?? 8080));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const url = `http://localhost:${port}`;
    const config: Config = parseConfig({
      ...env,
      PORT: String(port),
      JOB_RUNNER: 'local',
      ESTAFETTE_EXECUTOR: options.executor,
      ESTAFETTE_WEBHOOK_TOKEN: settings.webhookToken,
      ESTAFETTE_SECRET_KEY: settings.secretKey,
      ESTAFETTE_JWT_KEY: settings.jwtKey,
      ESTAFETTE_BASE_URL: env.ESTAFETTE_BASE_URL ?? url,
      ESTAFETTE_LOG_INGEST_URL: `http://127.0.0.1:${port}`,
      K_SINK: undefined,
    });

    const database: LocalDatabase = await startDatabase(dir, env, log);
    cleanups.push(() => database.stop());
    const pool = createPool(database.url);
    cleanups.push(() => pool.end());
    await migrate(pool);

    let bus: Bus;
    let liveLogs: LiveLogs;
    try {
      bus = await createBus(busConfigOf(config));
      liveLogs = config.natsUrl ? await connectLiveLogs(config.natsUrl, config.busSubjectPrefix) : new MemoryLiveLogs();
    } catch (err) {
      throw new Error(`cannot connect to NATS_URL (${config.natsUrl}): ${(err as Error).message}`);
    }
    cleanups.push(() => liveLogs.close());
    cleanups.push(() => bus.close());

    const runner = new LocalJobRunner({
      env: env.DOCKER_HOST ? { DOCKER_HOST: env.DOCKER_HOST } : {},
      onOutput: (ref, text) => {
        for (const line of text.split('\n')) if (line.trim()) log(`[builder ${ref.kind} ${ref.id}] ${line}`);
      },
    });
    // Registered last so it runs first on stop: builders report `canceled` while the server is up.
    const publishFrom = (fn: string) => publisher(bus, `/estafette/${fn}`);

    const dispatch = makeBuildDispatch({
      pool,
      scm: scmRouter(config.scm),
      runner,
      publish: publishFrom('build-dispatch'),
      settings: { jwtKey: settings.jwtKey, secretKey: settings.secretKey, logIngestUrl: config.logIngestUrl, baseUrl: config.baseUrl, executor: options.executor, maxChainDepth: config.maxChainDepth },
      log: (l) => log(`[build-dispatch] ${l}`),
    });
    const cron = makeCronRelay({ pool, publish: publishFrom('cron-relay'), runner, log: (l) => log(`[cron-relay] ${l}`) });

    const subscriptions: Subscription[] = [
      await bus.subscribe('build-dispatch', consumedBy('build-dispatch').map(eventType), async (ce) => dispatch(parseEvent(ce))),
      await bus.subscribe('cron-relay', consumedBy('cron-relay').map(eventType), async (ce) => cron(ce)),
    ];
    cleanups.push(async () => {
      for (const s of subscriptions) await s.stop();
      for (const d of await bus.deadLetters()) log(deadLetterLine(d));
    });

    const publishWebhook = publishFrom('webhook-ingest');
    const handler = routeFunctions({
      webhookIngest: makeWebhookIngest({
        secrets: config.forgeSecrets,
        publish: (name, data, id) => publishWebhook(name, data, { id }),
        seen: (forge, id) => deliverySeen(pool, forge, id),
        remember: async (forge, id) => void (await recordDelivery(pool, forge, id)),
        maxBodyBytes: config.maxWebhookBytes,
        log: (l) => log(`[webhook-ingest] ${l}`),
      }),
      logIngest: makeLogIngest({ pool, config, liveLogs, publish: publishFrom('log-ingest'), log: (l) => log(`[log-ingest] ${l}`) }),
      queryApi: makeQueryApi({ pool, config, liveLogs, publish: publishFrom('query-api'), staticDir: existsSync(`${UI_DIR}index.html`) ? UI_DIR : undefined, log: (l) => log(`[query-api] ${l}`) }),
    });
    server.on('request', toNodeListener(handler, { maxBodyBytes: config.maxWebhookBytes, log: (l) => log(l) }));
    if (!existsSync(`${UI_DIR}index.html`)) log('web UI not built (run `npm run build`): serving the API only');

    const tick = (time = new Date()) => publishFrom('cron-relay')('cron.tick', { time: time.toISOString() });
    const every = options.cronIntervalMs ?? (Number(env.ESTAFETTE_CRON_INTERVAL_MS) || 60_000);
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      timer = setTimeout(() => {
        tick().catch((err) => log(`cron tick failed: ${(err as Error).message}`));
        schedule();
      }, every - (Date.now() % every) + 50);
      timer.unref();
    };
    schedule();
    cleanups.push(async () => clearTimeout(timer));
    cleanups.push(() => runner.close());

    return {
      url,
      port,
      stateDir: dir,
      webhookToken: settings.webhookToken,
      settings,
      databaseDescription: database.kind === 'embedded' ? `embedded PostgreSQL (${dir}/pg)` : 'PostgreSQL at DATABASE_URL',
      busDescription: config.natsUrl ? `NATS JetStream at ${config.natsUrl}` : 'in-memory',
      pool,
      runner,
      tick,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
