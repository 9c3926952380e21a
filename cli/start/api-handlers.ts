/**
 * log-ingest and query-api as the local mode mounts them: the same makeHandler()s as on Knative,
 * with sign-in off (local mode: everyone is an administrator, and the UI says so).
 */
import type pg from 'pg';
import type { Config } from '../../shared/config/config.ts';
import type { LiveLogs } from '../../shared/bus/live-logs.ts';
import type { Publish } from '../../shared/runtime/runtime.ts';
import type { HttpHandler } from '../../shared/http/types.ts';
import { makeHandler as makeLogIngestHandler } from '../../functions/log-ingest/handler.ts';
import { makeHandler as makeQueryApiHandler } from '../../functions/query-api/handler.ts';

export interface ApiDeps {
  pool: pg.Pool;
  config: Config;
  liveLogs: LiveLogs;
  publish: Publish;
  staticDir?: string;
  log(line: string): void;
}

/** log-ingest for the local builders. */
export function makeLogIngest(d: ApiDeps): HttpHandler {
  return makeLogIngestHandler({ pool: d.pool, liveLogs: d.liveLogs, publish: d.publish, jwtKey: d.config.jwtKey!, log: d.log });
}

/** query-api with the UI; sign-in off. */
export function makeQueryApi(d: ApiDeps): HttpHandler {
  return makeQueryApiHandler({
    pool: d.pool,
    liveLogs: d.liveLogs,
    publish: d.publish,
    auth: { enabled: false },
    ...(d.config.secretKey ? { secretKey: d.config.secretKey } : {}),
    ...(d.staticDir ? { staticDir: d.staticDir } : {}),
    log: d.log,
  });
}
