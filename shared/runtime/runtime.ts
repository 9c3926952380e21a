/**
 * The process-wide infrastructure of a function, built lazily from the parsed Config so a
 * scaled-from-zero instance listens before it opens any connection and loads only what its first
 * request needs: the PostgreSQL pool, one NATS connection (shared by the bus and live logs), the
 * event bus (Knative broker when K_SINK is set, JetStream when NATS_URL is set, in-memory
 * otherwise — the local mode passes in its durable queue on PostgreSQL instead), live logs, and the job runner (the Kubernetes client is imported on first use).
 * Each function's composition root (`functions/<name>/wire.ts`) takes what it needs from here;
 * the Knative entry builds one Runtime per process, the local mode one for all five functions
 * (passing in what it made itself: the embedded database, the local job runner).
 */
import type pg from 'pg';
import type { NatsConnection } from 'nats';
import type { Config } from '../config/config.ts';
import { ConfigError } from '../errors/http-error.ts';
import { createPool } from '../db/pool.ts';
import { createBus, type Bus, type BusConfig, type PublishResult } from '../bus/index.ts';
import type { Readiness } from '../http/health.ts';
import { MemoryLiveLogs, NatsLiveLogs, type LiveLogs } from '../bus/live-logs.ts';
import { MemoryDispatchOutcomes, NatsDispatchOutcomes, type DispatchOutcomes } from '../bus/dispatch-outcomes.ts';
import { connectNats } from '../bus/nats-connection.ts';
import { LocalJobRunner } from '../jobs/local-runner.ts';
import { makeEvent } from '../events/make.ts';
import type { EventName, EventPayloads } from '../events/types.ts';
import type { JobRunner } from '../jobs/runner.ts';
import { DeferredJobRunner } from '../jobs/deferred-runner.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { currentTraceparent } from '../trace/tracing.ts';

/** Publishes one event; `id` makes re-publishing idempotent. Resolves `{ duplicate }` when the bus dropped it as a repeat. */
export type Publish = <N extends EventName>(name: N, data: EventPayloads[N], opts?: { id?: string; subject?: string }) => Promise<PublishResult>;

/** The bus transport a config selects. */
function busConfigOf(config: Pick<Config, 'kSink' | 'natsUrl' | 'busStream' | 'busSubjectPrefix'>): BusConfig {
  if (config.kSink) return { kind: 'broker', sink: config.kSink };
  if (config.natsUrl) {
    return { kind: 'jetstream', url: config.natsUrl, stream: config.busStream, deadLetterStream: `${config.busStream}_DLQ`, subjectPrefix: config.busSubjectPrefix };
  }
  return { kind: 'memory' };
}

/**
 * `publish` over a bus with a fixed CloudEvent source. Every event carries the traceparent of
 * the active trace (the request or event being handled), so its consumers continue that trace.
 */
export function publisher(bus: Pick<Bus, 'publish'> | (() => Promise<Pick<Bus, 'publish'>>), source: string): Publish {
  const get = typeof bus === 'function' ? bus : async () => bus;
  return async (name, data, opts = {}) => {
    const traceparent = currentTraceparent();
    const event = makeEvent(name, data, { source, ...(opts.id ? { id: opts.id } : {}), ...(opts.subject ? { subject: opts.subject } : {}), ...(traceparent ? { traceparent } : {}) });
    return (await get()).publish(event);
  };
}

/** What a caller (local mode, tests) provides instead of the Runtime building it from the config. */
export interface RuntimeParts {
  pool: pg.Pool;
  bus: Bus;
  liveLogs: LiveLogs;
  jobRunner: JobRunner;
  /** Dispatch outcomes for waiting webhooks (one in-memory instance shared by the local mode's functions). */
  outcomes?: DispatchOutcomes;
}

/** A value built once, on first use; a failed build is retried on the next use. */
function once<T>(build: () => Promise<T>): { get(): Promise<T>; built(): Promise<T> | undefined } {
  let p: Promise<T> | undefined;
  return {
    get: () =>
      (p ??= build().catch((err) => {
        p = undefined;
        throw err;
      })),
    built: () => p,
  };
}

export class Runtime {
  private poolInstance?: pg.Pool;
  private readonly natsConn = once(() => this.connectNats());
  private readonly busInstance = once(() => this.makeBus());
  private readonly liveLogsInstance = once(() => this.makeLiveLogs());
  private readonly outcomesInstance = once(async (): Promise<DispatchOutcomes> => (this.config.natsUrl ? new NatsDispatchOutcomes(await this.natsConn.get(), this.config.busSubjectPrefix) : new MemoryDispatchOutcomes()));
  private runner?: DeferredJobRunner;

  constructor(
    readonly config: Config,
    readonly log: Logger,
    private readonly parts: Partial<RuntimeParts> = {},
  ) {}

  /** The database pool (DATABASE_URL is required); pg connects on the first query. */
  pool(): pg.Pool {
    if (this.parts.pool) return this.parts.pool;
    if (!this.config.databaseUrl) throw new ConfigError('DATABASE_URL', 'is required');
    this.poolInstance ??= createPool(this.config.databaseUrl, { log: this.log });
    return this.poolInstance;
  }

  /** Throws a ConfigError now, at start-up, when the pool could not be made. */
  requirePool(): void {
    this.pool();
  }

  /** The bus, connected on first use. */
  bus(): Promise<Bus> {
    return this.parts.bus ? Promise.resolve(this.parts.bus) : this.busInstance.get();
  }

  /** `publish` with this function's CloudEvent source; connects the bus on the first publish. */
  publisher(source: string): Publish {
    return publisher(() => this.bus(), source);
  }

  /** Live log publish/subscribe (core NATS when NATS_URL is set, else in this process). */
  liveLogs(): Promise<LiveLogs> {
    return this.parts.liveLogs ? Promise.resolve(this.parts.liveLogs) : this.liveLogsInstance.get();
  }

  /** What build-dispatch made of an event, for webhooks that wait (core NATS when NATS_URL is set, else in this process). */
  outcomes(): Promise<DispatchOutcomes> {
    return this.parts.outcomes ? Promise.resolve(this.parts.outcomes) : this.outcomesInstance.get();
  }

  /** The job runner JOB_RUNNER selects; the Kubernetes client is loaded on its first call. */
  jobRunner(): JobRunner {
    if (this.parts.jobRunner) return this.parts.jobRunner;
    return (this.runner ??= new DeferredJobRunner(this.config.jobRunner, () => this.makeJobRunner()));
  }

  /** Starts loading the job runner in the background (see DeferredJobRunner.warm). */
  warmJobRunner(): void {
    if (!this.parts.jobRunner) (this.jobRunner() as DeferredJobRunner).warm();
  }

  /**
   * The runner housekeeping may check: the cluster's (kubernetes) or the one given by the local
   * mode. A local runner made here would see no builder another process started, so none.
   */
  housekeepingRunner(): JobRunner | undefined {
    if (this.parts.jobRunner) return this.parts.jobRunner;
    return this.config.jobRunner === 'kubernetes' ? this.jobRunner() : undefined;
  }

  /** Ready when the database answers a trivial query within 2 s. */
  async databaseReady(): Promise<Readiness> {
    try {
      await Promise.race([this.pool().query('SELECT 1'), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2000).unref())]);
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: `database: ${errorMessage(err)}` };
    }
  }

  /**
   * Ready when the bus can take a publish now (connects it on the first check). On Knative
   * (K_SERVICE set) events must go to the Broker: until the SinkBinding has set K_SINK, a
   * publish would land in a stream nothing reads, so the function is not ready.
   */
  async busReady(): Promise<Readiness> {
    if (this.config.kService && !this.config.kSink && !this.parts.bus) {
      return { ok: false, reason: 'bus: K_SINK is not set (no SinkBinding has bound this Knative Service to the Broker yet)' };
    }
    try {
      const bus = await this.bus();
      const r = bus.ready ? await bus.ready() : ({ ok: true } as const);
      return r.ok ? r : { ok: false, reason: `bus: ${r.reason}` };
    } catch (err) {
      return { ok: false, reason: `bus: ${errorMessage(err)}` };
    }
  }

  /** Closes what this Runtime opened (not the parts it was given). */
  async close(): Promise<void> {
    const settle = async (p: Promise<{ close(): Promise<void> }> | undefined) => {
      if (p) await (await p.catch(() => undefined))?.close().catch(() => {});
    };
    await settle(this.busInstance.built());
    await settle(this.liveLogsInstance.built());
    await settle(this.outcomesInstance.built());
    await this.runner?.close().catch(() => {});
    const nc = await this.natsConn.built()?.catch(() => undefined);
    if (nc && !nc.isClosed()) await nc.drain().catch(() => {});
    await this.poolInstance?.end().catch(() => {});
  }

  private async connectNats(): Promise<NatsConnection> {
    const url = this.config.natsUrl;
    if (!url) throw new ConfigError('NATS_URL', 'is required');
    return connectNats(url, { name: `estafette-${this.log.bindings().function ?? 'process'}`, log: this.log, auth: this.config.natsAuth });
  }

  private async makeBus(): Promise<Bus> {
    const config = busConfigOf(this.config);
    return createBus(config, { log: this.log, ...(config.kind === 'jetstream' ? { connection: await this.natsConn.get() } : {}) });
  }

  private async makeLiveLogs(): Promise<LiveLogs> {
    if (!this.config.natsUrl) return new MemoryLiveLogs();
    return new NatsLiveLogs(await this.natsConn.get(), { subjectPrefix: this.config.busSubjectPrefix });
  }

  private async makeJobRunner(): Promise<JobRunner> {
    if (this.config.jobRunner === 'local') {
      return new LocalJobRunner();
    }
    // The only lazy import: @kubernetes/client-node is most of a function's start-up cost.
    const { KubernetesJobRunner } = await import('../k8s/kubernetes-runner.ts');
    const c = this.config;
    return KubernetesJobRunner.fromDefault({
      ...c.builderJobSpec,
      namespace: c.jobNamespace,
      builderImageRepository: c.builderImageRepository,
      serviceAccountName: c.builderServiceAccount,
      ...(c.otlpEndpoint ? { otlpEndpoint: c.otlpEndpoint } : {}),
    });
  }
}
