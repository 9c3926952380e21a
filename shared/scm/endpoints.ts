/**
 * Which API a repository's forge requests go to, and with which credentials: `ForgeEndpoints`
 * resolves a repository (its forge and host) to a `ForgeAccess` — API URL by precedence host
 * entry `apiUrl` > global `*_API_URL` > derived from the host (hosts.ts); credentials by host
 * entry > global token/app when they apply to that API (credentials.ts). A GitHub App's
 * installation token is fetched per repository (github-app.ts). Without usable credentials a
 * request goes out anonymously, which still reads public repositories.
 */
import type { ScmSettings } from '../config/config.ts';
import type { GithubAppCredentials, HostCredentials } from './credentials.ts';
import { GithubAppTokens } from './github-app.ts';
import { derivedApiUrl, forgeOfRepo, isPublicHost, type ApiForge } from './hosts.ts';
import { isLocalRepo, ScmError, type RepoLocation } from './provider.ts';

/** A credential as it is presented. */
type Credential = { kind: 'token'; token: string } | { kind: 'basic'; username: string; password: string } | { kind: 'app'; tokens: GithubAppTokens };

/** What git gets to clone over HTTPS: user and password (a token), and when it stops working. */
export interface CloneCredentials {
  username: string;
  password: string;
  expiresAt?: string;
}

/** One repository's API: where, how to authenticate, what to give a build for its clone. */
export interface ForgeAccess {
  forge: ApiForge;
  host: string;
  apiUrl: string;
  /** True when some credential is configured (statuses are only sent with one). */
  authenticated: boolean;
  /** Headers authenticating a request (empty: anonymous). */
  headers(): Promise<Record<string, string>>;
  /** Credentials for `git clone` over HTTPS, or undefined (anonymous). */
  cloneCredentials(): Promise<CloneCredentials | undefined>;
}

interface GlobalForge {
  apiUrl?: string;
  token?: string;
  app?: GithubAppCredentials;
}

/** Resolves repositories to their forge API access. */
export class ForgeEndpoints {
  private readonly apps = new Map<string, GithubAppTokens>();

  constructor(readonly settings: ScmSettings) {}

  private global(forge: ApiForge): GlobalForge {
    const s = this.settings;
    switch (forge) {
      case 'github':
        return { apiUrl: s.githubApiUrl, token: s.githubToken, app: s.githubApp };
      case 'gitlab':
        return { apiUrl: s.gitlabApiUrl, token: s.gitlabToken };
      case 'gitea':
        // GITEA_API_URL has always named the instance; the API is below it.
        return { apiUrl: s.giteaApiUrl && !/\/api\/v1\/?$/.test(s.giteaApiUrl) ? `${s.giteaApiUrl.replace(/\/+$/, '')}/api/v1` : s.giteaApiUrl, token: s.giteaToken };
      case 'bitbucket':
        return { apiUrl: s.bitbucketApiUrl, token: s.bitbucketToken };
      case 'bitbucket-server':
        return {};
    }
  }

  private appTokens(apiUrl: string, app: GithubAppCredentials): GithubAppTokens {
    const key = `${apiUrl}\0${app.appId}`;
    let t = this.apps.get(key);
    if (!t) this.apps.set(key, (t = new GithubAppTokens(app, { apiUrl, timeoutMs: this.settings.timeoutMs })));
    return t;
  }

  /** The host entry of a repository's host, if configured. */
  hostEntry(host: string): HostCredentials | undefined {
    return this.settings.hosts[host.toLowerCase()];
  }

  /** The access of `repo`, or undefined for local repositories and hosts of no known forge. */
  access(repo: RepoLocation): ForgeAccess | undefined {
    if (isLocalRepo(repo.cloneUrl)) return undefined;
    const host = repo.repoSource.toLowerCase();
    const entry = this.hostEntry(host);
    const forge = forgeOfRepo(repo.forge, host, entry?.forge);
    if (!forge) return undefined;
    const g = this.global(forge);
    const apiUrl = (entry?.apiUrl ?? g.apiUrl ?? derivedApiUrl(forge, host)).replace(/\/+$/, '');
    // Global credentials belong to the forge's public host, or to the one API they name.
    const globalApplies = isPublicHost(forge, host) || g.apiUrl !== undefined;
    let credential: Credential | undefined;
    if (entry?.githubApp && forge === 'github') credential = { kind: 'app', tokens: this.appTokens(apiUrl, entry.githubApp) };
    else if (entry?.token) credential = { kind: 'token', token: entry.token };
    else if (entry?.username !== undefined) credential = { kind: 'basic', username: entry.username, password: entry.password ?? '' };
    else if (globalApplies && g.app && forge === 'github') credential = { kind: 'app', tokens: this.appTokens(apiUrl, g.app) };
    else if (globalApplies && g.token) credential = { kind: 'token', token: g.token };
    return new Access(forge, host, apiUrl, credential, repo);
  }
}

class Access implements ForgeAccess {
  constructor(
    readonly forge: ApiForge,
    readonly host: string,
    readonly apiUrl: string,
    private readonly credential: Credential | undefined,
    private readonly repo: RepoLocation,
  ) {}

  get authenticated(): boolean {
    return this.credential !== undefined;
  }

  /** The token (or basic pair) to present now; undefined when anonymous. */
  private async current(): Promise<{ token: string; expiresAt?: string } | { username: string; password: string } | undefined> {
    const c = this.credential;
    if (!c) return undefined;
    if (c.kind === 'token') return { token: c.token };
    if (c.kind === 'basic') return { username: c.username, password: c.password };
    try {
      return await c.tokens.tokenFor(this.repo.repoOwner, this.repo.repoName, this.repo.installationId);
    } catch (err) {
      // The app is not installed on this repository: read it as anyone may.
      if (err instanceof ScmError && err.status === 404) return undefined;
      throw err;
    }
  }

  async headers(): Promise<Record<string, string>> {
    const c = await this.current();
    if (!c) return {};
    if ('username' in c) return { authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` };
    switch (this.forge) {
      case 'gitlab':
        return { 'private-token': c.token };
      case 'gitea':
        return { authorization: `token ${c.token}` };
      default:
        return { authorization: `Bearer ${c.token}` };
    }
  }

  async cloneCredentials(): Promise<CloneCredentials | undefined> {
    const c = await this.current();
    if (!c) return undefined;
    if ('username' in c) return { username: c.username, password: c.password };
    const expiresAt = 'expiresAt' in c && c.expiresAt ? { expiresAt: c.expiresAt } : {};
    // The user names each forge's git server takes with a token as password.
    switch (this.forge) {
      case 'github':
        return { username: 'x-access-token', password: c.token, ...expiresAt };
      case 'gitlab':
        return { username: 'oauth2', password: c.token };
      case 'gitea':
        return { username: c.token, password: 'x-oauth-basic' };
      case 'bitbucket':
        return { username: 'x-token-auth', password: c.token };
      case 'bitbucket-server':
        return { username: 'x-token-auth', password: c.token };
    }
  }
}
