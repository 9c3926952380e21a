/**
 * GitHub App authentication for one GitHub API (github.com or an Enterprise host): the app's JWT
 * and installation tokens come from `@octokit/auth-app`, which signs the JWT and caches each
 * installation's token until a minute before GitHub's one-hour expiry; a token with less than
 * `minValidityMs` left is renewed, so what we hand a build Job lives long enough to clone. The
 * installation of a repository is the webhook's `installation.id` when known, else looked up
 * once (`GET /repos/{owner}/{repo}/installation`) and remembered.
 */
import { createAppAuth } from '@octokit/auth-app';
import { request } from '@octokit/request';
import { forgeFetch } from './forge-request.ts';
import { ScmError } from './provider.ts';
import type { GithubAppCredentials } from './credentials.ts';

/** A token and when it stops working. */
export interface InstallationToken {
  token: string;
  expiresAt: string;
}

export interface GithubAppOptions {
  /** API base URL, e.g. https://api.github.com or https://ghe.example.com/api/v3. */
  apiUrl: string;
  timeoutMs: number;
  /** A token with less validity left than this is renewed (default 10 min). */
  minValidityMs?: number;
  now?: () => number;
}

const MAX_REMEMBERED = 10_000;

/** Installation tokens of one GitHub App on one GitHub API. */
export class GithubAppTokens {
  private readonly auth: ReturnType<typeof createAppAuth>;
  private readonly installations = new Map<string, number>();
  private readonly minValidityMs: number;
  private readonly now: () => number;

  constructor(
    app: GithubAppCredentials,
    private readonly options: GithubAppOptions,
  ) {
    this.minValidityMs = options.minValidityMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    this.auth = createAppAuth({
      appId: app.appId,
      privateKey: app.privateKey,
      request: request.defaults({
        baseUrl: options.apiUrl,
        headers: { 'user-agent': 'estafette-knative' },
        // Every token request bounded like our own forge requests.
        request: { fetch: (url: string, init: RequestInit) => fetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs) }) },
      }),
    });
  }

  /** Remembers the installation a webhook named for a repository (no request). */
  remember(owner: string, repo: string, installationId: number): void {
    if (this.installations.size >= MAX_REMEMBERED) this.installations.clear();
    this.installations.set(`${owner}/${repo}`.toLowerCase(), installationId);
  }

  /** The installation of `owner/repo`, from a webhook or looked up with the app's JWT. */
  async installationOf(owner: string, repo: string): Promise<number> {
    const key = `${owner}/${repo}`.toLowerCase();
    const known = this.installations.get(key);
    if (known) return known;
    const jwt = await this.appJwt();
    const res = await forgeFetch(
      'github',
      {
        method: 'GET',
        url: `${this.options.apiUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/installation`,
        headers: { authorization: `Bearer ${jwt}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
      },
      this.options.timeoutMs,
    );
    const id = ((await res.json()) as { id?: unknown }).id;
    if (typeof id !== 'number') throw new ScmError('github', res.status, `GET /repos/${owner}/${repo}/installation gave no installation id`);
    this.remember(owner, repo, id);
    return id;
  }

  /** An installation token for `owner/repo` valid for at least minValidityMs. */
  async tokenFor(owner: string, repo: string, installationId?: number): Promise<InstallationToken> {
    if (installationId) this.remember(owner, repo, installationId);
    const id = installationId ?? (await this.installationOf(owner, repo));
    try {
      let t = await this.auth({ type: 'installation', installationId: id });
      if (Date.parse(t.expiresAt) - this.now() < this.minValidityMs) t = await this.auth({ type: 'installation', installationId: id, refresh: true });
      return { token: t.token, expiresAt: t.expiresAt };
    } catch (err) {
      throw asScmError(err, `POST /app/installations/${id}/access_tokens`);
    }
  }

  private async appJwt(): Promise<string> {
    try {
      return (await this.auth({ type: 'app' })).token;
    } catch (err) {
      throw asScmError(err, 'signing the app JWT');
    }
  }
}

/** An @octokit/request error (or any) as an ScmError keeping its status and message. */
function asScmError(err: unknown, what: string): ScmError {
  if (err instanceof ScmError) return err;
  const e = err as { status?: unknown; message?: string };
  const status = typeof e.status === 'number' ? e.status : 0;
  return new ScmError('github', status, `${what} ${status ? `answered ${status}` : 'failed'}: ${(e.message ?? String(err)).replace(/\s+/g, ' ').slice(0, 200)}`);
}
