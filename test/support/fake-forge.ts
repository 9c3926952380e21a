/**
 * A fake forge for tests, speaking the real paths and answers of the five forge APIs the system
 * calls — GitHub (at `/`, as api.github.com), Gitea (`/api/v1`), GitLab (`/api/v4`), Bitbucket
 * Cloud (`/2.0`) and Bitbucket Server (`/rest`) — over one HTTP server: it serves manifests from
 * real bare git repositories, repository lookups, GitHub App installation lookups and tokens,
 * records every request (statuses included) for contract checks, serves the repositories for
 * `git clone` over smart HTTP (`/git/<owner>/<name>.git`, `git http-backend` behind a CGI
 * bridge), demands a token when a repository is private, and fails on demand (an HTTP status,
 * or no answer at all).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gitHttpBackend } from './git-http-backend.ts';

/** One API request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** Path without query, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** A commit status as one of the forges received it. */
export interface RecordedStatus {
  forge: 'github' | 'gitea' | 'gitlab' | 'bitbucket' | 'bitbucket-server';
  repo: string;
  sha: string;
  body: Record<string, unknown>;
}

/** A failure to inject: answer `status`, or never answer (`hang`). */
export type Failure = { status: number; message?: string } | { hang: true };

/** A repository the fake serves: a bare repository plus a work tree to commit in. */
export interface FakeRepo {
  owner: string;
  name: string;
  /** Clone URL over HTTP (no credentials). */
  cloneUrl: string;
  /** Writes files, commits them on `branch` (default main) and pushes; returns the sha. */
  commit(files: Record<string, string>, message?: string, branch?: string): string;
  /** Points `ref` (e.g. refs/pull/7/head) of the bare repository at `sha`. */
  setRef(ref: string, sha: string): void;
  /** Pushes commit `sha` of another repository's work tree into this one at `ref`. */
  fetchInto(from: FakeRepo, sha: string, ref: string): void;
  workTree: string;
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

export class FakeForge {
  url = '';
  readonly requests: RecordedRequest[] = [];
  readonly statuses: RecordedStatus[] = [];
  /** Tokens issued to GitHub App installations, in order. */
  readonly issuedTokens: Array<{ installationId: number; token: string }> = [];
  /** Installation id of each `owner/name` a GitHub App is installed on. */
  readonly installations = new Map<string, number>();
  /** When set, private repositories answer only requests presenting one of these tokens. */
  readonly acceptedTokens = new Set<string>();
  private readonly privateRepos = new Set<string>();
  private readonly failures: Array<{ pattern: RegExp; failure: Failure; times: number }> = [];
  private readonly root = mkdtempSync(join(tmpdir(), 'fake-forge-'));
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private tokenCounter = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.route(req, res).catch((err) => res.writeHead(500).end(String(err))));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    rmSync(this.root, { recursive: true, force: true });
  }

  /** Makes requests whose `METHOD path` matches `pattern` fail `times` times (default: until cleared). */
  fail(pattern: RegExp, failure: Failure, times = Number.POSITIVE_INFINITY): void {
    this.failures.push({ pattern, failure, times });
  }

  /** Stops every injected failure. */
  heal(): void {
    this.failures.length = 0;
  }

  /** Statuses received for `sha`, in order, as each forge's `state`. */
  statesOf(sha: string): string[] {
    return this.statuses.filter((s) => s.sha === sha).map((s) => String(s.body.state));
  }

  /** A new repository `owner/name` (private: API and git need an accepted token). */
  repo(owner: string, name: string, opts: { private?: boolean } = {}): FakeRepo {
    const bare = join(this.root, 'git', owner, `${name}.git`);
    mkdirSync(dirname(bare), { recursive: true });
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    // As GitHub: any reachable commit may be fetched by sha (the builder fetches the revision).
    git(bare, 'config', 'uploadpack.allowAnySHA1InWant', 'true');
    git(bare, 'config', 'http.uploadpack', 'true');
    const work = join(this.root, 'work', owner, name);
    mkdirSync(work, { recursive: true });
    execFileSync('git', ['init', '-q', '-b', 'main', work]);
    git(work, 'remote', 'add', 'origin', bare);
    if (opts.private) this.privateRepos.add(`${owner}/${name}`.toLowerCase());
    let commits = 0;
    return {
      owner,
      name,
      workTree: work,
      cloneUrl: `${this.url}/git/${owner}/${name}.git`,
      commit(files, message = 'change', branch = 'main') {
        const current = git(work, 'symbolic-ref', '--short', 'HEAD');
        if (current !== branch) git(work, 'checkout', '-q', '-B', branch);
        // Same files in two repositories must still make two commits (statuses are found by sha).
        const unique = { '.fake-forge': `${owner}/${name} ${++commits}\n`, ...files };
        for (const [p, content] of Object.entries(unique)) {
          mkdirSync(dirname(join(work, p)), { recursive: true });
          writeFileSync(join(work, p), content);
        }
        git(work, 'add', '-A');
        git(work, 'commit', '-q', '--allow-empty', '-m', message);
        git(work, 'push', '-q', '-f', 'origin', `HEAD:refs/heads/${branch}`);
        return git(work, 'rev-parse', 'HEAD');
      },
      setRef(ref, sha) {
        git(bare, 'update-ref', ref, sha);
      },
      fetchInto(from, sha, ref) {
        git(from.workTree, 'push', '-q', '-f', bare, `${sha}:${ref}`);
      },
    };
  }

  private bare(owner: string, name: string): string {
    return join(this.root, 'git', owner, `${name}.git`);
  }

  private presentedToken(req: IncomingMessage): string | undefined {
    const auth = String(req.headers.authorization ?? '');
    const pt = req.headers['private-token'];
    if (typeof pt === 'string') return pt;
    const m = /^(?:bearer|token)\s+(.+)$/i.exec(auth);
    if (m) return m[1];
    const b = /^basic\s+(.+)$/i.exec(auth);
    if (b) {
      const [user, pass] = Buffer.from(b[1]!, 'base64').toString().split(':');
      return pass === 'x-oauth-basic' ? user : pass;
    }
    return undefined;
  }

  private readable(req: IncomingMessage, owner: string, name: string): boolean {
    if (!this.privateRepos.has(`${owner}/${name}`.toLowerCase())) return true;
    const t = this.presentedToken(req);
    return t !== undefined && this.acceptedTokens.has(t);
  }

  /** The manifest (or any file) at `ref`, undefined when missing. */
  private show(owner: string, name: string, ref: string, path: string): string | undefined {
    try {
      return execFileSync('git', ['-C', this.bare(owner, name), 'show', `${ref}:${path}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return undefined;
    }
  }

  private exists(owner: string, name: string): boolean {
    try {
      execFileSync('git', ['-C', this.bare(owner, name), 'rev-parse', '--git-dir'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://fake');
    const path = u.pathname;
    if (path.startsWith('/git/')) return this.gitHttp(req, res, path.slice('/git'.length), u.search.slice(1));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString();
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // not JSON: kept as text
    }
    this.requests.push({ method: req.method ?? 'GET', path, query: u.searchParams, headers: req.headers, body });
    const key = `${req.method} ${path}`;
    const f = this.failures.find((x) => x.times > 0 && x.pattern.test(key));
    if (f) {
      f.times--;
      if ('hang' in f.failure) return; // never answers: the client's timeout decides
      return void res.writeHead(f.failure.status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: f.failure.message ?? 'Injected failure' }));
    }
    const send = (status: number, value: unknown, type = 'application/json') => void res.writeHead(status, { 'content-type': type }).end(typeof value === 'string' ? value : JSON.stringify(value));
    const notFound = () => send(404, { message: 'Not Found' });
    const seg = path.split('/').slice(1).map(decodeURIComponent);
    const file = (owner: string, name: string, ref: string, p: string) => {
      if (!this.exists(owner, name) || !this.readable(req, owner, name)) return notFound();
      const text = this.show(owner, name, ref, p);
      return text === undefined ? notFound() : send(200, text, 'text/plain');
    };
    const repoInfo = (owner: string, name: string) => (this.exists(owner, name) && this.readable(req, owner, name) ? send(200, { full_name: `${owner}/${name}`, name }) : notFound());
    const status = (forge: RecordedStatus['forge'], owner: string, name: string, sha: string) => {
      if (!this.exists(owner, name) || !this.readable(req, owner, name) || this.presentedToken(req) === undefined) return send(this.exists(owner, name) ? 401 : 404, { message: 'Requires authentication' });
      this.statuses.push({ forge, repo: `${owner}/${name}`, sha, body: body as Record<string, unknown> });
      return send(201, { id: this.statuses.length, ...(body as object) });
    };
    const splitProject = (id: string) => {
      const cut = id.lastIndexOf('/');
      return [id.slice(0, cut), id.slice(cut + 1)] as const;
    };
    const m = req.method;

    // Gitea / Forgejo: /api/v1/repos/{owner}/{repo}/...
    if (seg[0] === 'api' && seg[1] === 'v1' && seg[2] === 'repos') {
      const [, , , owner, name, what, ...rest] = seg as [string, string, string, string, string, string?, ...string[]];
      if (m === 'GET' && what === undefined) return repoInfo(owner, name);
      if (m === 'GET' && what === 'raw') return file(owner, name, u.searchParams.get('ref') ?? 'HEAD', rest.join('/'));
      if (m === 'POST' && what === 'statuses') return status('gitea', owner, name, rest.join('/'));
      return notFound();
    }
    // GitLab: /api/v4/projects/{url-encoded path}/...
    if (seg[0] === 'api' && seg[1] === 'v4' && seg[2] === 'projects') {
      const [owner, name] = splitProject(seg[3] ?? '');
      if (m === 'GET' && seg.length === 4) return repoInfo(owner, name);
      if (m === 'GET' && seg[4] === 'repository' && seg[5] === 'files' && seg[7] === 'raw') return file(owner, name, u.searchParams.get('ref') ?? 'HEAD', seg[6] ?? '');
      if (m === 'POST' && seg[4] === 'statuses') return status('gitlab', owner, name, seg[5] ?? '');
      return notFound();
    }
    // Bitbucket Cloud: /2.0/repositories/{workspace}/{slug}/...
    if (seg[0] === '2.0' && seg[1] === 'repositories') {
      const [, , owner, name, what, ...rest] = seg as [string, string, string, string, string?, ...string[]];
      if (m === 'GET' && what === undefined) return repoInfo(owner, name);
      if (m === 'GET' && what === 'src') return file(owner, name, rest[0] ?? 'HEAD', rest.slice(1).join('/'));
      if (m === 'POST' && what === 'commit' && rest[1] === 'statuses' && rest[2] === 'build') return status('bitbucket', owner, name, rest[0] ?? '');
      return notFound();
    }
    // Bitbucket Server: /rest/api/1.0/projects/{key}/repos/{slug}/..., /rest/build-status/1.0/commits/{sha}
    if (seg[0] === 'rest') {
      if (seg[1] === 'api' && seg[3] === 'projects' && seg[5] === 'repos') {
        const [owner, name] = [seg[4]!, seg[6]!];
        if (m === 'GET' && seg.length === 7) return repoInfo(owner, name);
        if (m === 'GET' && seg[7] === 'raw') return file(owner, name, u.searchParams.get('at') ?? 'HEAD', seg.slice(8).join('/'));
      }
      if (m === 'POST' && seg[1] === 'build-status' && seg[3] === 'commits') {
        // The build-status API is not per repository: the commit alone names what it is about.
        if (this.presentedToken(req) === undefined) return send(401, { message: 'Authentication required' });
        this.statuses.push({ forge: 'bitbucket-server', repo: '', sha: seg[4] ?? '', body: body as Record<string, unknown> });
        return send(204, '');
      }
      return notFound();
    }
    // GitHub: /repos/{owner}/{repo}/..., /app/installations/{id}/access_tokens
    if (seg[0] === 'app' && seg[1] === 'installations' && seg[3] === 'access_tokens' && m === 'POST') {
      if (!/^bearer\s+ey/i.test(String(req.headers.authorization ?? ''))) return send(401, { message: 'A JSON web token could not be decoded' });
      const installationId = Number(seg[2]);
      const token = `ghs_fake${++this.tokenCounter}`;
      this.issuedTokens.push({ installationId, token });
      this.acceptedTokens.add(token);
      return send(201, { token, expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: { contents: 'read', statuses: 'write' }, repository_selection: 'all' });
    }
    if (seg[0] === 'repos') {
      const [, owner, name, what, ...rest] = seg as [string, string, string, string?, ...string[]];
      if (m === 'GET' && what === undefined) return repoInfo(owner, name);
      if (m === 'GET' && what === 'installation') {
        const id = this.installations.get(`${owner}/${name}`.toLowerCase());
        return id ? send(200, { id, app_id: 1 }) : notFound();
      }
      if (m === 'GET' && what === 'contents') return file(owner, name, u.searchParams.get('ref') ?? 'HEAD', rest.join('/'));
      if (m === 'POST' && what === 'statuses') return status('github', owner, name, rest.join('/'));
    }
    return notFound();
  }

  /** git smart HTTP through `git http-backend` (CGI): headers parsed from its output, body streamed. */
  private gitHttp(req: IncomingMessage, res: ServerResponse, pathInfo: string, query: string): void {
    const m = /^\/([^/]+)\/([^/]+)\.git\//.exec(pathInfo);
    if (!m || !this.readable(req, m[1]!, m[2]!)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fake-forge"' }).end();
      return;
    }
    gitHttpBackend(req, res, { root: join(this.root, 'git'), pathInfo, query });
  }
}
