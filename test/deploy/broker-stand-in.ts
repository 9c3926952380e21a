/**
 * A Knative Broker ingress for tests (the functions' K_SINK): it takes binary-mode CloudEvents
 * as the Broker does (202), records each one, and delivers the types a "Trigger" subscribes to
 * the subscriber's URL in binary mode, as the Trigger would.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One received event: its CloudEvent attributes (ce-* headers without the prefix) and data. */
export interface ReceivedEvent {
  type: string;
  id: string;
  source: string;
  attributes: Record<string, string>;
  data: unknown;
  /** The subscriber's answer, when the event was delivered to one. */
  delivered?: number;
}

/** A running broker stand-in. */
export interface BrokerStandIn {
  url: string;
  received: ReceivedEvent[];
  /** Delivers events of these types to `url` from now on. */
  subscribe(types: string[], url: string): void;
  stop(): Promise<void>;
}

const body = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/** Starts the stand-in on a free port of 127.0.0.1. */
export async function startBrokerStandIn(): Promise<BrokerStandIn> {
  const received: ReceivedEvent[] = [];
  const triggers: Array<{ types: string[]; url: string }> = [];
  const server = createServer(async (req, res) => {
    const raw = await body(req);
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('ce-') && typeof v === 'string') attributes[k.slice(3)] = v;
    if (req.method !== 'POST' || !attributes.specversion || !attributes.type || !attributes.id) {
      return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"not a binary-mode CloudEvent"}');
    }
    const event: ReceivedEvent = {
      type: attributes.type,
      id: attributes.id,
      source: attributes.source ?? '',
      attributes,
      data: /json/.test(String(req.headers['content-type'])) && raw.length ? JSON.parse(raw.toString('utf8')) : raw.toString('utf8'),
    };
    received.push(event);
    const trigger = triggers.find((t) => t.types.includes(event.type));
    if (trigger) {
      const headers: Record<string, string> = { 'content-type': String(req.headers['content-type'] ?? 'application/json') };
      for (const [k, v] of Object.entries(attributes)) headers[`ce-${k}`] = v;
      const answer = await fetch(trigger.url, { method: 'POST', headers, body: new Uint8Array(raw) }).catch(() => undefined);
      event.delivered = answer?.status ?? 0;
      await answer?.body?.cancel();
    }
    res.writeHead(202).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    subscribe: (types, url) => void triggers.push({ types, url }),
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
