/**
 * The one way this system connects to NATS: credentials taken from the URL (`user:pass@` or a
 * bare token as the user part), which the client would otherwise ignore, or from NATS_CREDS_FILE /
 * NATS_TOKEN (`auth`, which wins over the URL's); reconnection forever
 * with backoff, so an outage of any length heals without a restart; the connection's state
 * tracked for readiness probes; the URL printed only without its credentials.
 */
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import type { NatsAuth } from '../config/config.ts';
import { errorMessage, safeUrl, type Logger } from '../log/logger.ts';

/** Connection options for `servers` (comma-separated URLs), credentials lifted out of the URLs (or taken from `auth`). */
export function natsOptions(servers: string, name: string, auth: NatsAuth = {}): ConnectionOptions {
  const urls = servers
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
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
  if (auth.credsFile || auth.token) {
    delete opts.user;
    delete opts.pass;
    delete opts.token;
    // Read once, at connect: a rotated file takes effect at the next start.
    if (auth.credsFile) opts.authenticator = credsAuthenticator(new Uint8Array(readFileSync(auth.credsFile)));
    if (auth.token) opts.token = auth.token;
  }
  return opts;
}

const connected = new WeakMap<NatsConnection, boolean>();

/** True while `nc` is connected (false during a reconnect and after close). */
export const isConnected = (nc: NatsConnection): boolean => !nc.isClosed() && connected.get(nc) !== false;

/** Connects to NATS at `servers`; logs disconnects and reconnects (URL without credentials). */
export async function connectNats(servers: string, o: { name: string; log?: Logger; auth?: NatsAuth }): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect(natsOptions(servers, o.name, o.auth));
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
