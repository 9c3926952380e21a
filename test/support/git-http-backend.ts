/**
 * git smart HTTP for test servers: one request answered by `git http-backend` (git's own CGI
 * program) serving the repositories under a folder — the CGI environment from the request, the
 * header lines of its answer parsed, the body streamed. Used by the test git servers
 * (git-http-server.ts, test/deploy/git-http-server.ts) and the fake forge.
 */
import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface GitBackendRequest {
  /** Folder holding the repositories (GIT_PROJECT_ROOT). */
  root: string;
  /** Path of the request below the root, URL-encoded as received (`/owner/name.git/info/refs`). */
  pathInfo: string;
  /** Query string without `?`. */
  query: string;
  /** The authenticated user, when the server checked one (REMOTE_USER). */
  remoteUser?: string;
}

/** Answers `req` with `git http-backend`; a backend that fails before answering is a 500. */
export function gitHttpBackend(req: IncomingMessage, res: ServerResponse, o: GitBackendRequest): void {
  const protocol = req.headers['git-protocol'] ? String(req.headers['git-protocol']) : undefined;
  const child = spawn('git', ['http-backend'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      GIT_PROJECT_ROOT: o.root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: decodeURIComponent(o.pathInfo),
      QUERY_STRING: o.query,
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: String(req.headers['content-type'] ?? ''),
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      ...(o.remoteUser ? { REMOTE_USER: o.remoteUser } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
      // The CGI name of the header, and the variable git itself reads (for protocol v2).
      ...(protocol ? { HTTP_GIT_PROTOCOL: protocol, GIT_PROTOCOL: protocol } : {}),
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
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    res.write(head.subarray(end + 4));
  });
  child.on('error', () => {
    if (!res.headersSent) res.writeHead(500).end();
  });
  child.on('close', () => (started ? res.end() : !res.headersSent && res.writeHead(500).end()));
}
