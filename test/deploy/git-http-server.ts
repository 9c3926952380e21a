/**
 * A git smart-HTTP server for tests: `git http-backend` (git's own CGI program) behind a node
 * HTTP server, serving every repository under a folder at `<url>/<owner>/<name>` — what a
 * forge's https clone URL is to a builder running in a container. Each repository allows
 * fetching any commit by id (as GitHub does), so the builder's shallow fetch of a revision works.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '',
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
      ...(req.headers['git-protocol'] ? { HTTP_GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(child.stdin);
  // A CGI answer: header lines, a blank line, the body.
  let head = Buffer.alloc(0);
  let started = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (started) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    started = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':');
      const [k, v] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
      if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
      else res.setHeader(k, v);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.on('close', () => (started ? res.end() : res.writeHead(500).end()));
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
