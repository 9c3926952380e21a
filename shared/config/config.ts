/**
 * Configuration of the functions, read once from the environment by a pure parser.
 * Every setting has a default where one makes sense; a bad value raises a ConfigError naming the
 * variable, which entry points print as one line before exiting 1.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ConfigError } from '../errors/http-error.ts';
import { isExecutorName, type ExecutorName } from '../plan/builder-config.ts';
import { parseAuthSettings, type AuthSettings } from '../auth/settings.ts';
import { parseForgeCredentials, readPrivateKey, type GithubAppCredentials, type HostCredentials } from '../scm/credentials.ts';

export interface ForgeSecrets {
  /** HMAC secret of GitHub webhooks (X-Hub-Signature-256). */
  github?: string;
  /** HMAC secret of Bitbucket Cloud webhooks (X-Hub-Signature). */
  bitbucket?: string;
  /** Shared token of GitLab webhooks (X-Gitlab-Token). */
  gitlab?: string;
  /** HMAC secret of Gitea webhooks (X-Gitea-Signature). */
  gitea?: string;
  /** Bearer token of the generic webhook. */
  generic?: string;
}

/**
 * How build-dispatch reaches the forges' APIs. A global `*_API_URL` sends every repository of
 * that forge to one API (when unset the API is derived from the repository's host); the global
 * tokens and the GitHub App apply to the forge's public host or to that global API; `hosts`
 * gives each other host its own credentials (ESTAFETTE_FORGE_CREDENTIALS).
 */
export interface ScmSettings {
  githubApiUrl?: string;
  githubToken?: string;
  githubApp?: GithubAppCredentials;
  gitlabApiUrl?: string;
  gitlabToken?: string;
  bitbucketApiUrl?: string;
  bitbucketToken?: string;
  giteaApiUrl?: string;
  giteaToken?: string;
  hosts: Record<string, HostCredentials>;
  /** Bound of one forge API request in ms (a hung API fails the attempt, visibly). */
  timeoutMs: number;
}

/** How commit statuses are reported back to the forge. */
export interface StatusSettings {
  /** Context prefix: builds report `<prefix>/<repo-name>`, releases `<prefix>/release/<target>[/<action>]`. */
  contextPrefix: string;
}

export interface Config {
  port: number;
  databaseUrl?: string;
  natsUrl?: string;
  /** JetStream stream and subject prefix of the bus (to share one NATS server between installs). */
  busStream: string;
  busSubjectPrefix: string;
  /** Knative Broker ingress (set by a SinkBinding). */
  kSink?: string;
  /** The Knative Service this process runs as (K_SERVICE, set by Knative Serving): on Knative when set. */
  kService?: string;
  forgeSecrets: ForgeSecrets;
  /** Base64 32-byte key for estafette.secret(...) values. */
  secretKey?: string;
  /** HS256 key signing job tokens (and sessions). */
  jwtKey?: string;
  /** Public base URL of the system (links, ESTAFETTE_CI_SERVER_BASE_URL). */
  baseUrl: string;
  /** Where builders send logs and status. */
  logIngestUrl: string;
  jobRunner: 'kubernetes' | 'local';
  jobNamespace: string;
  builderImageRepository: string;
  builderServiceAccount: string;
  /** Further Job settings (resources, dind, deadline, TTL…) as JSON: Partial<JobSpecOptions>. */
  builderJobSpec: Record<string, unknown>;
  executor: ExecutorName;
  /** Webhook body limit in bytes. */
  maxWebhookBytes: number;
  /** Longest trigger chain (A triggers B triggers …) before dispatch refuses. */
  maxChainDepth: number;
  scm: ScmSettings;
  statuses: StatusSettings;
  /** Attempts at reading a build's manifest before the build fails (ESTAFETTE_MANIFEST_ATTEMPTS). */
  manifestAttempts: number;
  /** Whether pull requests from forks build (webhook-ingest). */
  forkPullRequests: 'build' | 'ignore';
  /** Sign-in (ESTAFETTE_AUTH); off when unset (required on Knative, where `off` must be explicit). */
  auth: AuthSettings;
  /** Folder of the built web UI that query-api serves for non-/api GETs (local mode sets it). */
  uiDir?: string;
  /** Interval of the local mode's cron timer in ms (the PingSource ticks every minute on Knative). */
  cronIntervalMs: number;
  /** pino level of the process's log lines. */
  logLevel: LogLevel;
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, `expected an integer from ${min} to ${max}, got '${raw}'`);
  return n;
}

function url(env: NodeJS.ProcessEnv, name: string, schemes: string[]): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a URL: '${raw.replace(/\/\/[^@/]*@/, '//***@')}'`);
  }
  if (!schemes.includes(u.protocol.replace(/:$/, ''))) throw new ConfigError(name, `expected a ${schemes.join('/')} URL`);
  return raw;
}

function jsonObject(env: NodeJS.ProcessEnv, name: string): Record<string, unknown> {
  const raw = env[name];
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new ConfigError(name, 'is not valid JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(name, 'must be a JSON object');
  return v as Record<string, unknown>;
}

function key32(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  if (Buffer.from(raw, 'base64').length !== 32) throw new ConfigError(name, 'expected 32 bytes, base64-encoded (estafette secret keygen makes one)');
  return raw;
}

function githubApp(env: NodeJS.ProcessEnv): GithubAppCredentials | undefined {
  const appId = env.GITHUB_APP_ID || undefined;
  const key = env.GITHUB_APP_PRIVATE_KEY || undefined;
  if (!appId && !key) return undefined;
  if (!appId) throw new ConfigError('GITHUB_APP_ID', 'is required when GITHUB_APP_PRIVATE_KEY is set');
  if (!key) throw new ConfigError('GITHUB_APP_PRIVATE_KEY', 'is required when GITHUB_APP_ID is set (a PEM key or the path of a file holding one)');
  if (!/^\d+$/.test(appId) && !/^Iv[0-9a-z.]+$/i.test(appId)) throw new ConfigError('GITHUB_APP_ID', `expected the app's numeric id or client id, got '${appId.slice(0, 40)}'`);
  return { appId, privateKey: readPrivateKey(key, 'GITHUB_APP_PRIVATE_KEY') };
}

function statusContext(env: NodeJS.ProcessEnv): string {
  const v = env.ESTAFETTE_STATUS_CONTEXT ?? 'estafette';
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]{0,60}$/.test(v)) throw new ConfigError('ESTAFETTE_STATUS_CONTEXT', `expected a short name of letters, digits, '.', '_', '-' and '/', got '${v.slice(0, 80)}'`);
  return v.replace(/\/+$/, '');
}

function forkPullRequests(env: NodeJS.ProcessEnv): 'build' | 'ignore' {
  const v = env.ESTAFETTE_FORK_PULL_REQUESTS || 'build';
  if (v !== 'build' && v !== 'ignore') throw new ConfigError('ESTAFETTE_FORK_PULL_REQUESTS', `expected build or ignore, got '${v.slice(0, 40)}'`);
  return v;
}

/** LOG_LEVEL alone (the CLI needs it before the rest of the config can be parsed). */
export function parseLogLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = env.LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}, got '${level}'`);
  return level as LogLevel;
}

/** Settings of the `estafette` commands that talk to a server (trigger, builds, logs). */
export interface CliConfig {
  /** ESTAFETTE_URL; unset → the running `estafette start` found in the local state, else http://localhost:8080. */
  serverUrl?: string;
  /** ESTAFETTE_WEBHOOK_TOKEN: the generic webhook's token for `trigger` (else the local state's). */
  webhookToken?: string;
  /** ESTAFETTE_CLIENT_ID + ESTAFETTE_CLIENT_SECRET: an API client of ESTAFETTE_AUTH, for a server with sign-in on. */
  client?: { id: string; secret: string };
  /** Per-user state folder, `$XDG_STATE_HOME/estafette` (default `~/.local/state/estafette`): where the last `estafette start` is noted. */
  userStateDir: string;
}

/** The per-user state folder, `$XDG_STATE_HOME/estafette` (the XDG spec ignores a relative value; default `~/.local/state`). */
export function userStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(xdg, 'estafette');
}

/** Parses the CLI's client settings; throws ConfigError on the first bad variable. */
export function parseCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const id = env.ESTAFETTE_CLIENT_ID || undefined;
  const secret = env.ESTAFETTE_CLIENT_SECRET || undefined;
  if (id && !secret) throw new ConfigError('ESTAFETTE_CLIENT_SECRET', 'is required with ESTAFETTE_CLIENT_ID');
  if (secret && !id) throw new ConfigError('ESTAFETTE_CLIENT_ID', 'is required with ESTAFETTE_CLIENT_SECRET');
  const serverUrl = url(env, 'ESTAFETTE_URL', ['http', 'https']);
  return {
    ...(serverUrl ? { serverUrl } : {}),
    ...(env.ESTAFETTE_WEBHOOK_TOKEN ? { webhookToken: env.ESTAFETTE_WEBHOOK_TOKEN } : {}),
    ...(id && secret ? { client: { id, secret } } : {}),
    userStateDir: userStateDir(env),
  };
}

/** Parses the configuration; throws ConfigError on the first bad variable. */
export function parseConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = int(env, 'PORT', 8080, 0, 65535);
  const baseUrl = url(env, 'ESTAFETTE_BASE_URL', ['http', 'https']) ?? `http://localhost:${port}`;
  const jobRunner = env.JOB_RUNNER ?? 'kubernetes';
  if (jobRunner !== 'kubernetes' && jobRunner !== 'local') throw new ConfigError('JOB_RUNNER', `expected kubernetes or local, got '${jobRunner}'`);
  const executor = env.ESTAFETTE_EXECUTOR ?? (jobRunner === 'local' ? 'host' : 'docker');
  if (!isExecutorName(executor)) throw new ConfigError('ESTAFETTE_EXECUTOR', `expected host or docker, got '${executor}'`);
  const logLevel = parseLogLevel(env);
  const jwtKey = env.ESTAFETTE_JWT_KEY || undefined;
  const kService = env.K_SERVICE || undefined;
  return {
    port,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres', 'postgresql']),
    natsUrl: url(env, 'NATS_URL', ['nats', 'tls', 'ws', 'wss']),
    kSink: url(env, 'K_SINK', ['http', 'https']),
    ...(kService ? { kService } : {}),
    busStream: env.ESTAFETTE_BUS_STREAM || 'CI_EVENTS',
    busSubjectPrefix: env.ESTAFETTE_BUS_SUBJECT_PREFIX || '',
    forgeSecrets: {
      github: env.GITHUB_WEBHOOK_SECRET || undefined,
      bitbucket: env.BITBUCKET_WEBHOOK_SECRET || undefined,
      gitlab: env.GITLAB_WEBHOOK_TOKEN || undefined,
      gitea: env.GITEA_WEBHOOK_SECRET || undefined,
      generic: env.ESTAFETTE_WEBHOOK_TOKEN || undefined,
    },
    secretKey: key32(env, 'ESTAFETTE_SECRET_KEY'),
    jwtKey,
    baseUrl,
    logIngestUrl: url(env, 'ESTAFETTE_LOG_INGEST_URL', ['http', 'https']) ?? baseUrl,
    jobRunner,
    jobNamespace: env.JOB_NAMESPACE || 'estafette-jobs',
    builderImageRepository: env.BUILDER_IMAGE || 'ghcr.io/estafette-knative/builder',
    builderServiceAccount: env.BUILDER_SERVICE_ACCOUNT || 'estafette-builder',
    builderJobSpec: jsonObject(env, 'BUILDER_JOB_SPEC_OPTIONS'),
    executor,
    maxWebhookBytes: int(env, 'MAX_WEBHOOK_BYTES', 25 * 1024 * 1024, 1024),
    maxChainDepth: int(env, 'MAX_TRIGGER_CHAIN_DEPTH', 10, 1, 1000),
    scm: {
      githubApiUrl: url(env, 'GITHUB_API_URL', ['http', 'https']),
      githubToken: env.GITHUB_TOKEN || undefined,
      githubApp: githubApp(env),
      gitlabApiUrl: url(env, 'GITLAB_API_URL', ['http', 'https']),
      gitlabToken: env.GITLAB_TOKEN || undefined,
      bitbucketApiUrl: url(env, 'BITBUCKET_API_URL', ['http', 'https']),
      bitbucketToken: env.BITBUCKET_TOKEN || undefined,
      giteaApiUrl: url(env, 'GITEA_API_URL', ['http', 'https']),
      giteaToken: env.GITEA_TOKEN || undefined,
      hosts: parseForgeCredentials(env.ESTAFETTE_FORGE_CREDENTIALS),
      timeoutMs: int(env, 'ESTAFETTE_FORGE_TIMEOUT_MS', 5_000, 100, 120_000),
    },
    statuses: { contextPrefix: statusContext(env) },
    manifestAttempts: int(env, 'ESTAFETTE_MANIFEST_ATTEMPTS', 5, 1, 100),
    forkPullRequests: forkPullRequests(env),
    // On Knative the install is reachable by others: sign-in is off only when asked for.
    auth: parseAuthSettings(env, jwtKey, baseUrl, { required: kService !== undefined }),
    ...(env.ESTAFETTE_UI_DIR ? { uiDir: env.ESTAFETTE_UI_DIR } : {}),
    cronIntervalMs: int(env, 'ESTAFETTE_CRON_INTERVAL_MS', 60_000, 100),
    logLevel,
  };
}
