/**
 * The one way this system connects to NATS: credentials taken from the URL (`user:pass@` or a
 * bare token as the user part), which the client would otherwise ignore; reconnection forever
 * with backoff, so an outage of any length heals without a restart; the connection's state
 * tracked for readiness probes; the URL printed only without its credentials.
 */
import { connect, type ConnectionOptions, type NatsConnection } from 'nats';
import { errorMessage, safeUrl, type Logger } from '../log/logger.ts';

/** Connection options for `servers` (comma-separated URLs), credentials lifted out of the URLs. */
export function natsOptions(servers: string, name: string): ConnectionOptions {
  const urls = servers.split(',').map((s) => s.trim()).filter(Boolean);
  const opts: ConnectionOptions = { name, maxReconnectAttempts: -1, reconnectTimeWait: 1000, waitOnFirstConnect: false };
  const clean: string[] = [];
  for (const raw of urls) {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      clean.push(raw);
      continue;
    }
    if (u.username && !opts.user && !opts.token) {
      const user = decodeURIComponent(u.username);
      if (u.password) Object.assign(opts, { user, pass: decodeURIComponent(u.password) });
      else opts.token = user;
    }
    u.username = '';
    u.password = '';
    clean.push(u.toString().replace(/\/$/, ''));
  }
  opts.servers = clean;
  return opts;
}

const connected = new WeakMap<NatsConnection, boolean>();

/** True while `nc` is connected (false during a reconnect and after close). */
export const isConnected = (nc: NatsConnection): boolean => !nc.isClosed() && connected.get(nc) !== false;

/** Connects to NATS at `servers`; logs disconnects and reconnects (URL without credentials). */
export async function connectNats(servers: string, o: { name: string; log?: Logger }): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect(natsOptions(servers, o.name));
  } catch (err) {
    throw new Error(`cannot connect to NATS at ${safeUrl(servers)}: ${errorMessage(err)}`, { cause: err });
  }
  connected.set(nc, true);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        connected.set(nc, false);
        o.log?.warn({ server: safeUrl(String(s.data)) }, 'NATS disconnected; reconnecting');
      } else if (s.type === 'reconnect') {
        connected.set(nc, true);
        o.log?.info({ server: safeUrl(String(s.data)) }, 'NATS reconnected');
      }
    }
  })().catch(() => {});
  return nc;
}
