/**
 * Configuration of the functions, read once from the environment by a pure parser.
 * Every setting has a default where one makes sense; a bad value raises a ConfigError naming the
 * variable, which entry points print as one line before exiting 1.
 */
import { ConfigError } from '../errors/http-error.ts';
import { isExecutorName, type ExecutorName } from '../plan/builder-config.ts';
import { parseAuthSettings, type AuthSettings } from '../auth/settings.ts';

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

export interface ScmSettings {
  githubApiUrl: string;
  githubToken?: string;
  gitlabApiUrl: string;
  gitlabToken?: string;
  bitbucketApiUrl: string;
  bitbucketToken?: string;
  giteaApiUrl?: string;
  giteaToken?: string;
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

/** LOG_LEVEL alone (the CLI needs it before the rest of the config can be parsed). */
export function parseLogLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const level = env.LOG_LEVEL || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new ConfigError('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}, got '${level}'`);
  return level as LogLevel;
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
      githubApiUrl: url(env, 'GITHUB_API_URL', ['http', 'https']) ?? 'https://api.github.com',
      githubToken: env.GITHUB_TOKEN || undefined,
      gitlabApiUrl: url(env, 'GITLAB_API_URL', ['http', 'https']) ?? 'https://gitlab.com/api/v4',
      gitlabToken: env.GITLAB_TOKEN || undefined,
      bitbucketApiUrl: url(env, 'BITBUCKET_API_URL', ['http', 'https']) ?? 'https://api.bitbucket.org/2.0',
      bitbucketToken: env.BITBUCKET_TOKEN || undefined,
      giteaApiUrl: url(env, 'GITEA_API_URL', ['http', 'https']),
      giteaToken: env.GITEA_TOKEN || undefined,
    },
    // On Knative the install is reachable by others: sign-in is off only when asked for.
    auth: parseAuthSettings(env, jwtKey, baseUrl, { required: kService !== undefined }),
    ...(env.ESTAFETTE_UI_DIR ? { uiDir: env.ESTAFETTE_UI_DIR } : {}),
    cronIntervalMs: int(env, 'ESTAFETTE_CRON_INTERVAL_MS', 60_000, 100),
    logLevel,
  };
}
