/**
 * Forge credentials per host, from one setting (`ESTAFETTE_FORGE_CREDENTIALS`, a JSON object of
 * host → entry) plus the global per-forge variables (`GITHUB_TOKEN`, `GITHUB_APP_ID` +
 * `GITHUB_APP_PRIVATE_KEY`, `GITLAB_TOKEN`, `GITEA_TOKEN`, `BITBUCKET_TOKEN`) that apply to the
 * forge's public host or to its global `*_API_URL`. Only build-dispatch reads them: the webhook
 * path holds webhook secrets alone.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors/http-error.ts';
import { isApiForge, type ApiForge } from './hosts.ts';

/** A GitHub App: its id and private key (PEM). */
export interface GithubAppCredentials {
  appId: string;
  privateKey: string;
}

/** What one host's entry may say. */
export interface HostCredentials {
  /** The forge the host runs, when its webhooks do not say (generic webhooks). */
  forge?: ApiForge;
  /** The API base URL, when it is not the one derived from the host (a path prefix, http, a port). */
  apiUrl?: string;
  /** A personal/project/access token: `Bearer` (GitHub, Bitbucket), `PRIVATE-TOKEN` (GitLab), `token` (Gitea). */
  token?: string;
  /** Basic auth instead of a token (a Bitbucket app password, a Bitbucket Server user). */
  username?: string;
  password?: string;
  /** A GitHub App for a GitHub Enterprise host. */
  githubApp?: GithubAppCredentials;
}

const ENTRY_KEYS = ['forge', 'apiUrl', 'token', 'username', 'password', 'appId', 'privateKey'] as const;

/**
 * A PEM private key, or the file holding one (a path, so a mounted Secret works). Throws
 * ConfigError naming `variable` when it is neither.
 */
export function readPrivateKey(value: string, variable: string): string {
  const v = value.trim();
  if (v.startsWith('-----BEGIN')) return v.replace(/\\n/g, '\n');
  let text: string;
  try {
    text = readFileSync(v, 'utf8');
  } catch (err) {
    throw new ConfigError(variable, `is neither a PEM key nor a readable file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  if (!text.includes('-----BEGIN')) throw new ConfigError(variable, 'names a file that holds no PEM key');
  return text;
}

/** Parses ESTAFETTE_FORGE_CREDENTIALS (JSON: `{"<host>": {token | username+password | appId+privateKey, forge?, apiUrl?}}`). */
export function parseForgeCredentials(raw: string | undefined, variable = 'ESTAFETTE_FORGE_CREDENTIALS'): Record<string, HostCredentials> {
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new ConfigError(variable, 'is not valid JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(variable, 'must be a JSON object of host → credentials');
  const out: Record<string, HostCredentials> = {};
  for (const [host, entry] of Object.entries(v as Record<string, unknown>)) {
    const where = `${variable}["${host.slice(0, 100)}"]`;
    if (!/^[a-z0-9.-]+(:\d{1,5})?$/i.test(host)) throw new ConfigError(variable, `key '${host.slice(0, 100)}' is not a host name (host or host:port)`);
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new ConfigError(variable, `${where} must be an object`);
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!(ENTRY_KEYS as readonly string[]).includes(k)) throw new ConfigError(variable, `${where} has unknown field '${k.slice(0, 40)}' (known: ${ENTRY_KEYS.join(', ')})`);
    for (const k of ENTRY_KEYS) if (e[k] !== undefined && typeof e[k] !== 'string') throw new ConfigError(variable, `${where}.${k} must be a string`);
    const s = e as Partial<Record<(typeof ENTRY_KEYS)[number], string>>;
    if (s.forge !== undefined && !isApiForge(s.forge)) throw new ConfigError(variable, `${where}.forge must be github, gitlab, gitea, bitbucket or bitbucket-server`);
    if (s.apiUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(s.apiUrl)) throw new ConfigError(variable, `${where}.apiUrl must be an http(s) URL`);
    if ((s.username === undefined) !== (s.password === undefined)) throw new ConfigError(variable, `${where} needs both username and password`);
    if ((s.appId === undefined) !== (s.privateKey === undefined)) throw new ConfigError(variable, `${where} needs both appId and privateKey`);
    out[host.toLowerCase()] = {
      ...(s.forge ? { forge: s.forge as ApiForge } : {}),
      ...(s.apiUrl ? { apiUrl: s.apiUrl.replace(/\/+$/, '') } : {}),
      ...(s.token ? { token: s.token } : {}),
      ...(s.username !== undefined ? { username: s.username, password: s.password } : {}),
      ...(s.appId ? { githubApp: { appId: s.appId, privateKey: readPrivateKey(s.privateKey!, `${where}.privateKey`) } } : {}),
    };
  }
  return out;
}
