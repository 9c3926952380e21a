/**
 * Live log tailing: log-ingest publishes each accepted batch (and status change) of a job as a
 * LiveMessage (shared/logs/protocol.ts) on core NATS `logs.<id>` / `logs.<kind>.<id>`
 * (names.ts logSubject); query-api subscribes per SSE viewer. Core NATS, not JetStream: a viewer
 * that misses messages reloads stored lines from the database by seq, so nothing here needs to
 * persist. The in-memory implementation does the same inside one process (local mode without NATS).
 */
import type { NatsConnection } from 'nats';
import { connectNats } from './nats-connection.ts';
import type { LiveMessage } from '../logs/protocol.ts';
import { logSubject } from './names.ts';

/** Whose log: a build, a release or a bot run (see names.ts logSubject). */
export type LiveJobKind = 'build' | 'release' | 'bot';

/** Publish/subscribe of live messages per job. */
export interface LiveLogs {
  /** Sends `msg` to the current subscribers of the job (fire and forget; none → dropped). */
  publish(kind: LiveJobKind, id: string, msg: LiveMessage): void;
  /** Calls `onMessage` for each message of the job from now on; returns the unsubscribe function. */
  subscribe(kind: LiveJobKind, id: string, onMessage: (msg: LiveMessage) => void): () => void;
  /** Flushes pending publishes and releases the connection. */
  close(): Promise<void>;
}

/** LiveLogs over core NATS. */
export class NatsLiveLogs implements LiveLogs {
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  /** `subjectPrefix` namespaces subjects (tests sharing a server); `owns` closes the connection on close(). */
  constructor(
    private readonly nc: NatsConnection,
    private readonly options: { subjectPrefix?: string; owns?: boolean } = {},
  ) {}

  private subject(kind: LiveJobKind, id: string): string {
    return `${this.options.subjectPrefix ?? ''}${logSubject(kind, id)}`;
  }

  publish(kind: LiveJobKind, id: string, msg: LiveMessage): void {
    this.nc.publish(this.subject(kind, id), this.encoder.encode(JSON.stringify(msg)));
  }

  subscribe(kind: LiveJobKind, id: string, onMessage: (msg: LiveMessage) => void): () => void {
    const sub = this.nc.subscribe(this.subject(kind, id), {
      callback: (err, m) => {
        if (err) return;
        let msg: LiveMessage;
        try {
          msg = JSON.parse(this.decoder.decode(m.data)) as LiveMessage;
        } catch {
          return; // not ours: ignore rather than break the viewer
        }
        onMessage(msg);
      },
    });
    return () => sub.unsubscribe();
  }

  async close(): Promise<void> {
    if (this.options.owns && !this.nc.isClosed()) await this.nc.drain();
    else await this.nc.flush();
  }
}

/** Connects to NATS at `url` and returns LiveLogs that own the connection. */
export async function connectLiveLogs(url: string, subjectPrefix?: string): Promise<NatsLiveLogs> {
  const nc = await connectNats(url, { name: 'estafette-live-logs' });
  return new NatsLiveLogs(nc, { subjectPrefix, owns: true });
}

/** LiveLogs inside one process. Messages are delivered asynchronously and as copies, as over NATS. */
export class MemoryLiveLogs implements LiveLogs {
  private readonly subscribers = new Map<string, Set<(msg: LiveMessage) => void>>();

  publish(kind: LiveJobKind, id: string, msg: LiveMessage): void {
    const subs = this.subscribers.get(logSubject(kind, id));
    if (!subs?.size) return;
    const json = JSON.stringify(msg);
    for (const s of [...subs]) queueMicrotask(() => subs.has(s) && s(JSON.parse(json) as LiveMessage));
  }

  subscribe(kind: LiveJobKind, id: string, onMessage: (msg: LiveMessage) => void): () => void {
    const key = logSubject(kind, id);
    let subs = this.subscribers.get(key);
    if (!subs) this.subscribers.set(key, (subs = new Set()));
    // Wrapped so the same function can subscribe twice and unsubscribe each independently.
    const handler = (msg: LiveMessage) => onMessage(msg);
    subs.add(handler);
    return () => {
      subs.delete(handler);
      if (subs.size === 0) this.subscribers.delete(key);
    };
  }

  async close(): Promise<void> {
    this.subscribers.clear();
  }
}
