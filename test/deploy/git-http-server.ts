/**
 * A git smart-HTTP server for tests: `git http-backend` (git's own CGI program) behind a node
 * HTTP server, serving every repository under a folder at `<url>/<owner>/<name>` — what a
 * forge's https clone URL is to a builder running in a container. Each repository allows
 * fetching any commit by id (as GitHub does), so the builder's shallow fetch of a revision works.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gitHttpBackend } from '../support/git-http-backend.ts';

/** A running server. */
export interface GitHttpServer {
  url: string;
  /** Every request path it answered (to show a clone went over HTTP). */
  requests: string[];
  stop(): Promise<void>;
}

/** Lets clients fetch any commit of the repository at `dir` by its id. */
export function allowFetchById(dir: string): void {
  execFileSync('git', ['-C', dir, 'config', 'uploadpack.allowAnySHA1InWant', 'true']);
}

function cgi(root: string, req: IncomingMessage, res: ServerResponse, requests: string[]): void {
  const url = new URL(req.url ?? '/', 'http://x');
  requests.push(url.pathname);
  gitHttpBackend(req, res, { root, pathInfo: url.pathname, query: url.search.slice(1) });
}

/** Serves the repositories under `root` (paths `<owner>/<name>` below it). */
export async function startGitHttpServer(root: string): Promise<GitHttpServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => cgi(root, req, res, requests));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
