/**
 * The PostgreSQL transport: the durable bus of the local mode without NATS, on the same
 * (embedded) PostgreSQL as everything else — a transactional queue written by hand (migration
 * 0310). A publish inserts the event into `bus_events` and, in the same transaction, one
 * `bus_deliveries` row per durable consumer of its type; it resolves after the commit, so an
 * event acknowledged to a caller survives `kill -9` of the process. Each (subscription, type)
 * claims its next delivery with `FOR UPDATE SKIP LOCKED` (lowest seq first, so publish order per
 * type) and marks it locked for the ack wait, renewed while the handler runs; success deletes the
 * row, failure sets `not_before` to the backoff, and after `maxDeliveries` the row moves to
 * `bus_dead_letters`. A process that dies mid-handler leaves a lock that expires: another
 * instance (or the restarted one) gets the event again. LISTEN/NOTIFY wakes idle loops at once
 * (PostgreSQL only — this transport is for the embedded database, never CockroachDB); a poll
 * covers a lost notification or connection. The contract of bus.ts holds; the duplicate window
 * is kept with `published_at`.
 *
 * Why not pg-boss: its queues are work queues (one job, one worker) without fan-out to durable
 * consumers that also receive what was published before they first subscribed, and it brings a
 * schema of its own; the contract needs little more than the four tables here.
 */
import { CloudEvent } from 'cloudevents';
import pg from 'pg';
import type { EventType } from '../events/types.ts';
import type { Readiness } from '../http/health.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import { eventDeadLettered } from '../metrics/metrics.ts';
import {
  assertConsumerName,
  assertPublishable,
  backoffFor,
  deadLetterFields,
  deadLetterLine,
  errorText,
  SUBSCRIBE_DEFAULTS,
  type Bus,
  type DeadLetter,
  type EventHandler,
  type PublishResult,
  type SubscribeOptions,
  type Subscription,
} from './bus.ts';

/** NOTIFY channel that wakes the delivery loops (payload: the event type). */
export const BUS_CHANNEL = 'estafette_bus';

/** Options of the PostgreSQL bus. */
export interface PostgresBusOptions {
  /** The pool of the database holding the bus tables (migrated; not closed by close()). */
  pool: pg.Pool;
  /** Connection string for the LISTEN connection (default: the pool's). */
  url?: string;
  /** Duplicate window for event ids in ms (default 2 minutes, as JetStream). */
  duplicateWindowMs?: number;
  /** How often an idle loop looks for work without a notification, in ms (default 1000). */
  pollMs?: number;
  /** Events older than this, delivered to every consumer, are deleted (default 7 days, as the JetStream stream). */
  maxAgeMs?: number;
  /**
   * Ack wait of subscriptions that set none, in ms (default 30 s; heartbeats renew it every
   * third of it): how long an event a dead process was handling stays locked.
   */
  lockMs?: number;
  /**
   * Unlocks every delivery at start (default false): for a database only this process consumes
   * from (`estafette start`), whose previous run died with events in hand — they are
   * redelivered at once instead of after the ack wait. Harmless otherwise: handlers are idempotent.
   */
  releaseLocks?: boolean;
  /** Dead letters and connection trouble are logged here. */
  log?: Logger;
}

const DEFAULTS = { duplicateWindowMs: 120_000, pollMs: 1000, maxAgeMs: 7 * 86_400_000, lockMs: 30_000 };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

interface Claimed {
  seq: string;
  deliveries: number;
  body: string;
}

/** The bus on PostgreSQL; `connectPostgresBus` starts its LISTEN connection and prunes old events. */
export class PostgresBus implements Bus {
  private readonly o: typeof DEFAULTS & PostgresBusOptions;
  private readonly wakers = new Map<string, Set<() => void>>();
  private readonly subscriptions = new Set<Subscription>();
  private listener?: pg.Client;
  private closed = false;

  constructor(options: PostgresBusOptions) {
    this.o = { ...DEFAULTS, ...options };
  }

  /** Starts listening for notifications (reconnecting with backoff while open) and deletes expired events. */
  async start(): Promise<void> {
    await this.listen().catch((err) => this.o.log?.warn({ error: errorMessage(err) }, 'bus: cannot LISTEN yet; polling'));
    if (this.o.releaseLocks) await this.o.pool.query('UPDATE bus_deliveries SET locked_until = NULL WHERE locked_until IS NOT NULL');
    await this.o.pool.query(
      `DELETE FROM bus_events e WHERE e.published_at < now() - $1 * interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM bus_deliveries d WHERE d.seq = e.seq)`,
      [this.o.maxAgeMs],
    );
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const opts = this.o.url ? { connectionString: this.o.url } : (this.o.pool as unknown as { options: pg.ClientConfig }).options;
    const client = new pg.Client({ ...opts, application_name: 'estafette-bus-listen' } as pg.ClientConfig);
    client.on('notification', (n) => this.wake(n.payload ?? ''));
    const lost = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => {});
      if (this.closed) return;
      // Wake everyone (something may have been published meanwhile), then listen again.
      this.wakeAll();
      void (async () => {
        for (let wait = 250; !this.closed && !this.listener; wait = Math.min(wait * 2, 5000)) {
          await sleep(wait);
          await this.listen().catch(() => {});
        }
      })();
    };
    client.on('error', lost);
    client.on('end', lost);
    await client.connect();
    await client.query(`LISTEN ${BUS_CHANNEL}`);
    this.listener = client;
    this.wakeAll();
  }

  async publish(event: CloudEvent<unknown>): Promise<PublishResult> {
    if (this.closed) throw new Error('bus is closed');
    assertPublishable(event);
    return this.transaction(async (client) => {
      // A repeat within the window changes nothing; after it the event is published again.
      const r = await client.query<{ seq: string }>(
        `INSERT INTO bus_events (event_id, type, body) VALUES ($1, $2, $3)
         ON CONFLICT (event_id) DO UPDATE SET body = EXCLUDED.body, type = EXCLUDED.type, published_at = now()
           WHERE bus_events.published_at < now() - $4 * interval '1 millisecond'
         RETURNING seq`,
        [event.id, event.type, JSON.stringify(event), this.o.duplicateWindowMs],
      );
      if (r.rowCount === 0) return { duplicate: true };
      await client.query(
        `INSERT INTO bus_deliveries (consumer, type, seq) SELECT consumer, type, $2 FROM bus_consumers WHERE type = $1
         ON CONFLICT (consumer, type, seq) DO UPDATE SET not_before = now(), locked_until = NULL`,
        [event.type, r.rows[0]!.seq],
      );
      await client.query('SELECT pg_notify($1, $2)', [BUS_CHANNEL, event.type]);
      return { duplicate: false };
    });
  }

  /**
   * Runs `fn` in a transaction on a client of the pool. A checked-out client whose connection
   * dies emits 'error' (the pool listens only on idle ones): caught here, and the broken client
   * is destroyed instead of returned.
   */
  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.o.pool.connect();
    const ignore = (): void => {};
    client.on('error', ignore);
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.off('error', ignore);
      client.release(failure);
    }
  }

  async ready(): Promise<Readiness> {
    try {
      await this.o.pool.query('SELECT 1 FROM bus_consumers LIMIT 1');
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: `PostgreSQL bus: ${errorMessage(err)}` };
    }
  }

  async subscribe(consumer: string, types: readonly EventType[], handler: EventHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    if (this.closed) throw new Error('bus is closed');
    assertConsumerName(consumer);
    const o = { ...SUBSCRIBE_DEFAULTS, ackWaitMs: this.o.lockMs, ...options };
    for (const type of types) await this.register(consumer, type);
    let stopped = false;
    const loops = types.map((type) => this.loop(consumer, type, handler, o, () => stopped));
    const sub: Subscription = {
      stop: async () => {
        stopped = true;
        for (const t of types) this.wake(t);
        await Promise.all(loops);
        this.subscriptions.delete(sub);
      },
    };
    this.subscriptions.add(sub);
    return sub;
  }

  /**
   * Makes (consumer, type) durable; a new one gets every retained event of its type. The SHARE
   * lock waits for publishes in flight and holds new ones back meanwhile, so no event falls
   * between the fan-out of a publish and this backfill.
   */
  private async register(consumer: string, type: string): Promise<void> {
    const known = await this.o.pool.query('SELECT 1 FROM bus_consumers WHERE consumer = $1 AND type = $2', [consumer, type]);
    if (known.rowCount) return;
    await this.transaction(async (client) => {
      await client.query('LOCK TABLE bus_events IN SHARE MODE');
      const added = await client.query('INSERT INTO bus_consumers (consumer, type) VALUES ($1, $2) ON CONFLICT DO NOTHING', [consumer, type]);
      if (added.rowCount) {
        await client.query(`INSERT INTO bus_deliveries (consumer, type, seq) SELECT $1, type, seq FROM bus_events WHERE type = $2 ON CONFLICT DO NOTHING`, [consumer, type]);
      }
    });
  }

  /** The next due delivery of (consumer, type), locked for `ackWaitMs`, or undefined. */
  private async claim(consumer: string, type: string, ackWaitMs: number): Promise<Claimed | undefined> {
    const r = await this.o.pool.query<Claimed>(
      `WITH next AS (
         SELECT consumer, type, seq FROM bus_deliveries
          WHERE consumer = $1 AND type = $2 AND not_before <= now() AND (locked_until IS NULL OR locked_until < now())
          ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
       UPDATE bus_deliveries d SET deliveries = d.deliveries + 1, locked_until = now() + $3 * interval '1 millisecond'
         FROM next, bus_events e
        WHERE d.consumer = next.consumer AND d.type = next.type AND d.seq = next.seq AND e.seq = d.seq
       RETURNING d.seq, d.deliveries, e.body`,
      [consumer, type, ackWaitMs],
    );
    return r.rows[0];
  }

  private async loop(consumer: string, type: string, handler: EventHandler, o: Required<SubscribeOptions>, stopped: () => boolean): Promise<void> {
    // Let subscribe() return before the first delivery, as with a network transport.
    await Promise.resolve();
    let trouble = 0;
    while (!stopped() && !this.closed) {
      let claimed: Claimed | undefined;
      try {
        claimed = await this.claim(consumer, type, o.ackWaitMs);
        trouble = 0;
      } catch (err) {
        // The database is away (restarting): say so once, then keep trying.
        if (trouble++ === 0) this.o.log?.warn({ consumer, type, error: errorMessage(err) }, 'bus: cannot read deliveries; retrying');
        await this.idle(type, Math.min(250 * trouble, 5000));
        continue;
      }
      if (!claimed) {
        await this.idle(type, Math.min(this.o.pollMs, o.backoffMs[0] ?? this.o.pollMs));
        continue;
      }
      await this.deliver(consumer, type, claimed, handler, o).catch((err) => this.o.log?.warn({ consumer, type, seq: claimed.seq, error: errorMessage(err) }, 'bus: cannot record a delivery; it will be redelivered'));
    }
  }

  private async deliver(consumer: string, type: string, c: Claimed, handler: EventHandler, o: Required<SubscribeOptions>): Promise<void> {
    const key = [consumer, type, c.seq];
    let event: CloudEvent<unknown>;
    try {
      event = new CloudEvent<unknown>(JSON.parse(c.body) as Record<string, unknown>, false);
    } catch (err) {
      const raw = new CloudEvent<unknown>({ id: `seq-${c.seq}`, type, source: 'postgres', data: c.body }, false);
      return this.deadLetter(consumer, type, c, raw, `not a CloudEvent: ${errorText(err)}`, c.deliveries);
    }
    if (c.deliveries > o.maxDeliveries) {
      // Only reachable when earlier deliveries timed out (a process died) instead of failing.
      return this.deadLetter(consumer, type, c, event, `not acknowledged within ${o.ackWaitMs} ms`, c.deliveries - 1);
    }
    // A live handler keeps its event however long it runs.
    const heartbeat = setInterval(
      () => {
        this.o.pool.query(`UPDATE bus_deliveries SET locked_until = now() + $4 * interval '1 millisecond' WHERE consumer = $1 AND type = $2 AND seq = $3`, [...key, o.ackWaitMs]).catch(() => {});
      },
      Math.max(50, Math.floor(o.ackWaitMs / 3)),
    );
    heartbeat.unref();
    let failure: unknown;
    let failed = false;
    try {
      await handler(event, { attempt: c.deliveries });
    } catch (err) {
      failed = true;
      failure = err;
    } finally {
      clearInterval(heartbeat);
    }
    if (!failed) {
      await this.o.pool.query('DELETE FROM bus_deliveries WHERE consumer = $1 AND type = $2 AND seq = $3', key);
      return;
    }
    if (c.deliveries >= o.maxDeliveries) return this.deadLetter(consumer, type, c, event, errorText(failure), c.deliveries);
    const wait = backoffFor(o.backoffMs, c.deliveries);
    await this.o.pool.query(`UPDATE bus_deliveries SET not_before = now() + $4 * interval '1 millisecond', locked_until = NULL WHERE consumer = $1 AND type = $2 AND seq = $3`, [...key, wait]);
  }

  private async deadLetter(consumer: string, type: string, c: Claimed, event: CloudEvent<unknown>, error: string, deliveries: number): Promise<void> {
    await this.transaction(async (client) => {
      await client.query(
        `INSERT INTO bus_dead_letters (consumer, seq, event_id, type, body, error, deliveries) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (consumer, seq) DO UPDATE SET error = EXCLUDED.error, deliveries = EXCLUDED.deliveries, dead_at = now()`,
        [consumer, c.seq, event.id, type, c.body, error, deliveries],
      );
      await client.query('DELETE FROM bus_deliveries WHERE consumer = $1 AND type = $2 AND seq = $3', [consumer, type, c.seq]);
    });
    const letter: DeadLetter = { consumer, event, error, deliveries, at: new Date().toISOString() };
    this.o.log?.error(deadLetterFields(letter), deadLetterLine(letter));
    eventDeadLettered(consumer, event.type);
  }

  async deadLetters(consumer?: string): Promise<DeadLetter[]> {
    const r = await this.o.pool.query<{ consumer: string; body: string; error: string; deliveries: number; dead_at: Date }>(
      `SELECT consumer, body, error, deliveries, dead_at FROM bus_dead_letters WHERE $1::text IS NULL OR consumer = $1 ORDER BY dead_at, seq`,
      [consumer ?? null],
    );
    return r.rows.map((row) => {
      let event: CloudEvent<unknown>;
      try {
        event = new CloudEvent<unknown>(JSON.parse(row.body) as Record<string, unknown>, false);
      } catch {
        event = new CloudEvent<unknown>({ type: 'unknown', source: 'postgres', data: row.body }, false);
      }
      return { consumer: row.consumer, event, error: row.error, deliveries: row.deliveries, at: row.dead_at.toISOString() };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.wakeAll();
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.closed = true;
    this.wakeAll();
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => {});
  }

  /** Sleeps up to `ms`, or until a publish of `type` (or a reconnect) wakes it. */
  private idle(type: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.wakers.get(type);
      if (!set) this.wakers.set(type, (set = new Set()));
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        set!.delete(done);
        resolve();
      }
      set.add(done);
    });
  }

  private wake(type: string): void {
    const set = this.wakers.get(type);
    if (!set) return;
    for (const w of [...set]) w();
  }

  private wakeAll(): void {
    for (const t of this.wakers.keys()) this.wake(t);
  }
}

/** A started PostgresBus over `pool` (the bus tables come with the migrations). */
export async function connectPostgresBus(options: PostgresBusOptions): Promise<PostgresBus> {
  const bus = new PostgresBus(options);
  await bus.start();
  return bus;
}
