/**
 * Configuration of every process — functions, builder and CLI — read once from the environment
 * by pure parsers: `parseConfig` (the functions and the local mode), `parseBuilderSettings` (the
 * builder in a Job), `parseCliConfig` (the `estafette` command), plus what is passed on to child
 * processes untouched (`inheritedEnv`, `builderEnv`). This is the only module that reads
 * environment variables. Every setting has a default where one makes sense; a bad value raises a
 * ConfigError naming the variable, which entry points print as one line before exiting 1.
 *
 * `VARIABLES` declares each variable once, with its default and meaning: README.md's
 * configuration table is exactly `configurationTable()`, and a test checks that every variable
 * read anywhere in the code is declared here and parsed here.
 */
import { readFileSync } from 'node:fs';
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

/** How to authenticate to NATS besides `user:password@` / `token@` in NATS_URL. */
export interface NatsAuth {
  /** NATS_CREDS_FILE: path of a `.creds` file (decentralised JWT auth, e.g. Synadia Cloud). */
  credsFile?: string;
  /** NATS_TOKEN: a token (from a Secret, so the URL can stay in a ConfigMap). */
  token?: string;
}

/** NATS_CREDS_FILE and NATS_TOKEN; the file must exist and be readable. */
function parseNatsAuth(env: NodeJS.ProcessEnv): NatsAuth {
  const credsFile = env.NATS_CREDS_FILE || undefined;
  const token = env.NATS_TOKEN || undefined;
  if (credsFile && token) throw new ConfigError('NATS_TOKEN', 'set NATS_CREDS_FILE or NATS_TOKEN, not both');
  if (credsFile) {
    let text: string;
    try {
      text = readFileSync(credsFile, 'utf8');
    } catch (err) {
      throw new ConfigError('NATS_CREDS_FILE', `cannot read ${credsFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!/-----BEGIN NATS USER JWT-----/.test(text) || !/-----BEGIN USER NKEY SEED-----/.test(text)) throw new ConfigError('NATS_CREDS_FILE', `${credsFile} is not a NATS .creds file (a user JWT and an NKey seed)`);
  }
  return { ...(credsFile ? { credsFile } : {}), ...(token ? { token } : {}) };
}

export interface Config {
  port: number;
  databaseUrl?: string;
  natsUrl?: string;
  /** NATS credentials besides the URL's: a `.creds` file (JWT + NKey seed) or a token. */
  natsAuth: NatsAuth;
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
  /** Most builds running at once on the whole server (0 = no limit); the others queue. */
  maxRunningBuilds: number;
  /** How long an admitted build or release may be without its Job before dispatch starts it again, in seconds. */
  admittedStartGraceSeconds: number;
  /** A running build or release whose builder has reported nothing for this long, and whose Job is not alive, is ended by housekeeping. */
  heartbeatTimeoutSeconds: number;
  /** Longest a webhook may wait for build-dispatch's answer when it asks (`?wait=<s>`), in seconds. */
  maxWebhookWaitSeconds: number;
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
  /** OTLP/HTTP collector spans are exported to; tracing exports nothing when unset. */
  otlpEndpoint?: string;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
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

/** OTEL_EXPORTER_OTLP_ENDPOINT: where spans go (functions and builder alike); absent, none are exported. */
function parseOtlpEndpoint(env: NodeJS.ProcessEnv = process.env): { otlpEndpoint?: string } {
  const endpoint = url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http', 'https']);
  return endpoint ? { otlpEndpoint: endpoint } : {};
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
  userStateDir: string /** ESTAFETTE_STATE_DIR as given (relative to the working directory; default `.estafette`). */;
  stateDir: string;
  /** ESTAFETTE_SECRET_KEY as given (`secret` and `run` check it with their own messages). */
  secretKey?: string;
  /** ESTAFETTE_JWT_KEY, for `start` (else generated and kept in the state folder). */
  jwtKey?: string;
  /** DATABASE_URL, for `migrate`. */
  databaseUrl?: string;
  /** ESTAFETTE_EXECUTOR, the default of `start --executor`. */
  executor?: ExecutorName;
  /** NO_COLOR set: no colours even on a terminal (`run`, `logs`, `trigger --watch`). */
  noColor: boolean;
}

/** The local mode's state folder as given (ESTAFETTE_STATE_DIR, default `.estafette`). */
export const localStateDir = (env: NodeJS.ProcessEnv = process.env): string => env.ESTAFETTE_STATE_DIR || '.estafette';

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
  const executor = env.ESTAFETTE_EXECUTOR || undefined;
  if (executor !== undefined && !isExecutorName(executor)) throw new ConfigError('ESTAFETTE_EXECUTOR', `expected host or docker, got '${executor}'`);
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres', 'postgresql']);
  return {
    ...(serverUrl ? { serverUrl } : {}),
    ...(env.ESTAFETTE_WEBHOOK_TOKEN ? { webhookToken: env.ESTAFETTE_WEBHOOK_TOKEN } : {}),
    ...(id && secret ? { client: { id, secret } } : {}),
    userStateDir: userStateDir(env),
    stateDir: localStateDir(env),
    ...(env.ESTAFETTE_SECRET_KEY ? { secretKey: env.ESTAFETTE_SECRET_KEY } : {}),
    ...(env.ESTAFETTE_JWT_KEY ? { jwtKey: env.ESTAFETTE_JWT_KEY } : {}),
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(executor ? { executor } : {}),
    noColor: Boolean(env.NO_COLOR),
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
    natsAuth: parseNatsAuth(env),
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
    maxRunningBuilds: int(env, 'ESTAFETTE_MAX_RUNNING_BUILDS', 0, 0, 100_000),
    admittedStartGraceSeconds: int(env, 'ESTAFETTE_ADMITTED_START_GRACE_SECONDS', 60, 1, 3600),
    heartbeatTimeoutSeconds: int(env, 'ESTAFETTE_HEARTBEAT_TIMEOUT_SECONDS', 30, 5, 3600),
    maxWebhookWaitSeconds: int(env, 'ESTAFETTE_WEBHOOK_MAX_WAIT_SECONDS', 10, 0, 25),
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
    ...parseOtlpEndpoint(env),
  };
}

/** One row of the README's configuration table: variables, their default, what they do. */
export interface VariableRow {
  names: readonly string[];
  default: string;
  meaning: string;
}

/**
 * Every environment variable the code reads, in the README's order. Adding a variable: declare it
 * here, parse it in the parser of the process that reads it, and paste `configurationTable()`
 * into README.md (the test says exactly what to add where).
 */
export const VARIABLES: readonly VariableRow[] = [
  { names: ['PORT'], default: '8080', meaning: 'HTTP port' },
  { names: ['LOG_LEVEL'], default: 'info', meaning: 'trace, debug, info, warn, error, fatal or silent; one JSON line per event (readable lines from `estafette start` on a terminal)' },
  { names: ['DATABASE_URL'], default: 'embedded PostgreSQL (local mode)', meaning: 'PostgreSQL or CockroachDB' },
  { names: ['NATS_URL'], default: 'durable bus on the local PostgreSQL (local mode)', meaning: 'NATS with JetStream: events on stream `CI_EVENTS`, live logs on `logs.<id>`' },
  {
    names: ['NATS_CREDS_FILE', 'NATS_TOKEN'],
    default: 'none (or `user:password@` / `token@` in NATS_URL)',
    meaning: "NATS credentials besides the URL's: a `.creds` file (user JWT + NKey seed), or a token; never printed",
  },
  { names: ['ESTAFETTE_BUS_STREAM', 'ESTAFETTE_BUS_SUBJECT_PREFIX'], default: 'CI_EVENTS, none', meaning: 'JetStream stream and subject prefix of the bus (to share one NATS server between installs)' },
  { names: ['K_SINK'], default: '—', meaning: 'Knative Broker ingress (set by the SinkBinding); events are POSTed there. On Knative a function without it is not ready (503)' },
  { names: ['K_SERVICE'], default: '—', meaning: 'set by Knative Serving: the function runs on Knative, where sign-in is required' },
  { names: ['ESTAFETTE_WEBHOOK_TOKEN'], default: 'generated, kept in `.estafette/`', meaning: 'bearer token of the generic webhook (`estafette trigger` reads it from the running `start` when unset)' },
  { names: ['GITHUB_WEBHOOK_SECRET', 'BITBUCKET_WEBHOOK_SECRET', 'GITLAB_WEBHOOK_TOKEN', 'GITEA_WEBHOOK_SECRET'], default: '—', meaning: 'per-forge webhook secrets (a forge without one answers 503)' },
  { names: ['MAX_WEBHOOK_BYTES'], default: '26214400', meaning: 'largest webhook (and event, report) body accepted' },
  { names: ['ESTAFETTE_SECRET_KEY'], default: 'generated (local mode)', meaning: 'base64 32-byte key of `estafette.secret(...)` values' },
  { names: ['ESTAFETTE_JWT_KEY'], default: 'generated (local mode)', meaning: 'signs job tokens and sessions' },
  { names: ['ESTAFETTE_BASE_URL'], default: 'http://localhost:PORT', meaning: 'public URL of the system (links, `ESTAFETTE_CI_SERVER_BASE_URL`)' },
  { names: ['ESTAFETTE_LOG_INGEST_URL'], default: 'ESTAFETTE_BASE_URL', meaning: 'where builders send logs and status' },
  {
    names: ['JOB_RUNNER', 'JOB_NAMESPACE', 'BUILDER_IMAGE', 'BUILDER_SERVICE_ACCOUNT', 'BUILDER_JOB_SPEC_OPTIONS'],
    default: 'kubernetes, estafette-jobs',
    meaning: 'how builds run (`BUILDER_JOB_SPEC_OPTIONS`: further Job settings as JSON)',
  },
  { names: ['ESTAFETTE_EXECUTOR'], default: 'docker (host for `JOB_RUNNER=local` and `estafette start`)', meaning: 'executor of the stages: `host` or `docker`' },
  { names: ['MAX_TRIGGER_CHAIN_DEPTH'], default: '10', meaning: 'longest chain of pipeline triggers (A triggers B triggers …) before dispatch refuses' },
  {
    names: ['GITHUB_API_URL', 'GITLAB_API_URL', 'GITEA_API_URL', 'BITBUCKET_API_URL'],
    default: "derived from each repository's host",
    meaning: 'one API for every repository of that forge (overrides the derivation; see [Connecting forges](#connecting-forges))',
  },
  { names: ['GITHUB_TOKEN', 'GITLAB_TOKEN', 'GITEA_TOKEN', 'BITBUCKET_TOKEN'], default: '— (anonymous)', meaning: "token for the forge's public host (github.com, gitlab.com, bitbucket.org) or its `*_API_URL`" },
  { names: ['GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY'], default: '—', meaning: 'a GitHub App (key as PEM or the path of a PEM file): installation tokens read manifests, clone and set statuses' },
  { names: ['ESTAFETTE_FORGE_CREDENTIALS'], default: '—', meaning: 'per-host forge credentials as JSON: `{"<host>": {"token"} \\| {"username","password"} \\| {"appId","privateKey"}, "forge"?, "apiUrl"?}`' },
  { names: ['ESTAFETTE_FORGE_TIMEOUT_MS'], default: '5000', meaning: 'bound of one forge API request (a hung API fails the attempt, visibly)' },
  { names: ['ESTAFETTE_MANIFEST_ATTEMPTS'], default: '5', meaning: "attempts at reading a build's manifest before the build fails (each failed one shows in the build)" },
  { names: ['ESTAFETTE_STATUS_CONTEXT'], default: 'estafette', meaning: 'commit status context prefix: `<prefix>/<repo>`, `<prefix>/release/<target>[/<action>]`' },
  { names: ['ESTAFETTE_FORK_PULL_REQUESTS'], default: 'build', meaning: '`build` or `ignore` pull requests whose head is in a fork' },
  { names: ['ESTAFETTE_AUTH'], default: 'sign-in off (local mode); required on Knative', meaning: 'sign-in providers, API clients and roles as JSON (docs/API.md); `off` runs without sign-in on purpose' },
  { names: ['ESTAFETTE_UI_DIR'], default: 'the built UI (local mode)', meaning: 'folder of the web UI that query-api serves for non-`/api` paths' },
  { names: ['ESTAFETTE_CRON_INTERVAL_MS'], default: '60000', meaning: "tick interval of the local mode's cron timer" },
  {
    names: ['ESTAFETTE_MAX_RUNNING_BUILDS'],
    default: '0 (no limit)',
    meaning: 'most builds running at once on the whole server; the others wait as `queued`, first come first served ([docs/scheduling.md](docs/scheduling.md))',
  },
  { names: ['ESTAFETTE_ADMITTED_START_GRACE_SECONDS'], default: '60', meaning: "a build or release admitted from the queue whose Job is still missing after this long gets its Job started again (on cron-relay's tick)" },
  {
    names: ['ESTAFETTE_HEARTBEAT_TIMEOUT_SECONDS'],
    default: '30',
    meaning:
      'a running build or release whose builder has reported nothing (logs, status or heartbeat) for this long and whose Job is not alive is failed by housekeeping, its running stages too ([docs/reliability.md](docs/reliability.md))',
  },
  { names: ['ESTAFETTE_WEBHOOK_MAX_WAIT_SECONDS'], default: '10', meaning: "longest `?wait=` a webhook may ask for to get build-dispatch's answer (the build, or why nothing was built)" },
  {
    names: ['OTEL_EXPORTER_OTLP_ENDPOINT'],
    default: 'no export',
    meaning: 'OTLP/HTTP collector (`/v1/traces` is appended) that functions and builders export spans to; traces still tie logs and events together without it (docs/observability.md)',
  },
  { names: ['BUILDER_CONFIG_PATH'], default: 'set by the job runner', meaning: "the builder's config file (read once, then removed where possible)" },
  {
    names: ['ESTAFETTE_DOCKER_USER', 'ESTAFETTE_DOCKER_TRUSTED_IMAGES'],
    default: "the image's user, none",
    meaning: 'user of docker-executor containers; comma-separated images allowed privileged mode and the Docker socket',
  },
  { names: ['DOCKER_HOST', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY'], default: 'the local socket', meaning: 'Docker engine of the docker executor (read by the Docker client, passed on to local builders)' },
  { names: ['PATH', 'HOME', 'LANG', 'LANGUAGE', 'LC_*'], default: "the process's", meaning: "the only variables of the builder's own environment its host-executor stages, services and git get" },
  { names: ['ESTAFETTE_URL'], default: 'the running `estafette start`, else http://localhost:8080', meaning: 'the server of `estafette trigger`, `builds` and `logs` (CLI only)' },
  { names: ['ESTAFETTE_CLIENT_ID', 'ESTAFETTE_CLIENT_SECRET'], default: '—', meaning: "an API client of the server's `ESTAFETTE_AUTH`, for `builds`, `logs` and `trigger --watch` where sign-in is on (CLI only)" },
  { names: ['ESTAFETTE_STATE_DIR'], default: '`./.estafette`', meaning: "the local mode's state folder (embedded database, generated keys, `server.json` while it runs)" },
  { names: ['XDG_STATE_HOME'], default: '`~/.local/state`', meaning: 'per-user state: `estafette/last-start.json` points at the running `estafette start` (CLI only)' },
  { names: ['ESTAFETTE_DEBUG'], default: 'off', meaning: 'any value: the CLI prints stack traces of errors' },
  { names: ['NO_COLOR'], default: '—', meaning: 'set: no colours in `estafette run`, `logs` and `trigger --watch` output on a terminal' },
];

/** The README's configuration table (header included), rendered from VARIABLES. */
export function configurationTable(): string {
  const rows = VARIABLES.map((v) => `| ${v.names.map((n) => `\`${n}\``).join(', ')} | ${v.default} | ${v.meaning} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** Variables of this process passed on unchanged to host-executor stages, services and git. */
const INHERITED = ['PATH', 'HOME', 'LANG', 'LANGUAGE'];

/** Where programs are looked up when the builder itself has no PATH. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The minimal base environment of every process the builder starts on the host (host-executor
 * stages and services, their readiness probes, git): PATH, HOME and the locale (LANG, LANGUAGE,
 * LC_*) of `env` — nothing else of it, so the builder's own variables (its config path, anything
 * the process that started it had, such as a secret key) never reach a stage.
 */
export function inheritedEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = { PATH: env.PATH || DEFAULT_PATH };
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== 'PATH' && (INHERITED.includes(k) || k.startsWith('LC_'))) out[k] = v;
  return out;
}

/** Variables of this process a locally started builder reads itself (which engine, how containers run, where spans go). */
const BUILDER_PASSED = ['DOCKER_HOST', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'ESTAFETTE_DOCKER_USER', 'ESTAFETTE_DOCKER_TRUSTED_IMAGES', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'LOG_LEVEL'];

/** The environment of a locally started builder: the inherited base plus the builder's own variables of `env`. */
export function builderEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out = inheritedEnv(env);
  for (const k of BUILDER_PASSED) if (env[k]) out[k] = env[k];
  return out;
}

/** What the builder program reads from its environment. */
export interface BuilderSettings {
  /** BUILDER_CONFIG_PATH (the builder fails without it). */
  configPath?: string;
  logLevel: LogLevel;
  otlpEndpoint?: string;
  /** Options of the docker executor. */
  docker: { user?: string; trustedImages: string[] };
}

/** Parses the builder's settings; throws ConfigError on a bad value. */
export function parseBuilderSettings(env: NodeJS.ProcessEnv = process.env): BuilderSettings {
  const trustedImages = (env.ESTAFETTE_DOCKER_TRUSTED_IMAGES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    ...(env.BUILDER_CONFIG_PATH ? { configPath: env.BUILDER_CONFIG_PATH } : {}),
    logLevel: parseLogLevel(env),
    ...parseOtlpEndpoint(env),
    docker: { ...(env.ESTAFETTE_DOCKER_USER ? { user: env.ESTAFETTE_DOCKER_USER } : {}), trustedImages },
  };
}

/** ESTAFETTE_DEBUG: whether the CLI prints stack traces (never throws: it is read while reporting an error). */
export const isDebug = (env: NodeJS.ProcessEnv = process.env): boolean => Boolean(env.ESTAFETTE_DEBUG);
