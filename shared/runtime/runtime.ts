/**
 * The process-wide dependencies of a function, built lazily from the Config on first use so a
 * scaled-from-zero instance answers its first request without waiting for connections it does
 * not need: the PostgreSQL pool, the event bus (Knative broker when K_SINK is set, JetStream when
 * NATS_URL is set, in-memory otherwise) and a `publish(name, data)` bound to a CloudEvent source.
 */
import type pg from 'pg';
import type { Config } from '../config/config.ts';
import { ConfigError } from '../errors/http-error.ts';
import { createPool } from '../db/pool.ts';
import { createBus, type Bus, type BusConfig } from '../bus/index.ts';
import { makeEvent } from '../events/make.ts';
import type { EventName, EventPayloads } from '../events/types.ts';

/** Publishes one event; `id` makes re-publishing idempotent. */
export type Publish = <N extends EventName>(name: N, data: EventPayloads[N], opts?: { id?: string; subject?: string }) => Promise<void>;

/** The bus transport a config selects. */
export function busConfigOf(config: Pick<Config, 'kSink' | 'natsUrl' | 'busStream' | 'busSubjectPrefix'>): BusConfig {
  if (config.kSink) return { kind: 'broker', sink: config.kSink };
  if (config.natsUrl) {
    return { kind: 'jetstream', url: config.natsUrl, stream: config.busStream, deadLetterStream: `${config.busStream}_DLQ`, subjectPrefix: config.busSubjectPrefix };
  }
  return { kind: 'memory' };
}

/** `publish` over a bus with a fixed CloudEvent source. */
export function publisher(bus: Pick<Bus, 'publish'>, source: string): Publish {
  return async (name, data, opts = {}) => {
    await bus.publish(makeEvent(name, data, { source, ...(opts.id ? { id: opts.id } : {}), ...(opts.subject ? { subject: opts.subject } : {}) }));
  };
}

export class Runtime {
  private poolInstance?: pg.Pool;
  private busInstance?: Promise<Bus>;

  constructor(readonly config: Config) {}

  /** The database pool (DATABASE_URL is required). */
  pool(): pg.Pool {
    if (!this.config.databaseUrl) throw new ConfigError('DATABASE_URL', 'is required');
    this.poolInstance ??= createPool(this.config.databaseUrl);
    return this.poolInstance;
  }

  /** The bus, connected once. */
  bus(): Promise<Bus> {
    this.busInstance ??= createBus(busConfigOf(this.config));
    return this.busInstance;
  }

  /** `publish` with this function's source. */
  async publish(source: string): Promise<Publish> {
    return publisher(await this.bus(), source);
  }

  async close(): Promise<void> {
    if (this.busInstance) await (await this.busInstance).close();
    await this.poolInstance?.end();
  }
}
