/**
 * Which server a client command (`trigger`, `builds`, `logs`) talks to: ESTAFETTE_URL when set,
 * else the running `estafette start` recorded in the local state (cli/start/running-server.ts),
 * else http://localhost:8080. The local state's webhook token is only used for the server that
 * recorded it, so a token of this machine is never sent to a server named by ESTAFETTE_URL.
 */
import type { CliConfig } from '../../shared/config/config.ts';
import { findRunningServer } from '../start/running-server.ts';

/** The server to talk to and where that came from (for messages). */
export interface ServerTarget {
  url: string;
  /** The generic webhook's token, when known (ESTAFETTE_WEBHOOK_TOKEN, else the local state's). */
  webhookToken?: string;
  foundBy: 'ESTAFETTE_URL' | 'local state' | 'default';
}

const DEFAULT_SERVER_URL = 'http://localhost:8080';

const origin = (u: string): string | undefined => {
  try {
    return new URL(u).origin;
  } catch {
    return undefined;
  }
};

/** Resolves the server by the rules in the module header. */
export function resolveServer(config: CliConfig, env: NodeJS.ProcessEnv = process.env): ServerTarget {
  const running = findRunningServer(config.userStateDir, env);
  const token = (t: string | undefined) => ((config.webhookToken ?? t) ? { webhookToken: config.webhookToken ?? t! } : {});
  if (config.serverUrl) {
    const same = running !== undefined && origin(running.url) === origin(config.serverUrl);
    return { url: config.serverUrl.replace(/\/+$/, ''), ...token(same ? running.webhookToken : undefined), foundBy: 'ESTAFETTE_URL' };
  }
  if (running) return { url: running.url, ...token(running.webhookToken), foundBy: 'local state' };
  return { url: DEFAULT_SERVER_URL, ...token(undefined), foundBy: 'default' };
}
