/**
 * A git smart-HTTP server for tests: `git http-backend` (CGI) behind a Node HTTP server that
 * demands HTTP basic auth, so a clone with credentials in its URL is tested over real HTTP.
 */
import { createServer } from 'node:http';
import { gitHttpBackend } from './git-http-backend.ts';

export interface GitHttpServer {
  /** Base URL (no credentials); a repository `<root>/r.git` is at `${url}/r.git`. */
  url: string;
  /** The Authorization headers received, in order (to see credentials were offered). */
  authorizations: string[];
  close(): Promise<void>;
}

/** Serves the bare repositories under `root` to clients presenting `user`:`password`. */
export async function startGitHttpServer(root: string, user: string, password: string): Promise<GitHttpServer> {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const authorizations: string[] = [];
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    if (auth) authorizations.push(auth);
    if (auth !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const u = new URL(req.url ?? '/', 'http://x');
    gitHttpBackend(req, res, { root, pathInfo: u.pathname, query: u.search.slice(1), remoteUser: 'test' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    authorizations,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
