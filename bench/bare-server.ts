/**
 * The baseline every HTTP benchmark is measured against: a bare Node `http` server that reads
 * the request body and answers 202 (and 200 to GET, so it answers a health probe like the
 * functions do). It runs as plain JavaScript in its own process, so its figures carry no
 * framework, no TypeScript loader and no I/O behind the response.
 */
import { spawnNode, spawnProcess, type Proc } from './environment.ts';

/** Source of the bare server (PORT from the environment; prints one line once listening). */
export const BARE_SERVER_JS = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const status = req.method === 'GET' ? 200 : 202;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status, bytes: Buffer.concat(chunks).length }));
  });
});
server.listen(Number(process.env.PORT), () => console.log('bare listening on ' + process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** Starts the bare server on `port` with plain `node` (or under `--import tsx` with `tsx: true`). */
export function spawnBare(port: number, opts: { tsx?: boolean; nodeArgs?: string[] } = {}): Proc {
  if (opts.tsx) return spawnNode([...(opts.nodeArgs ?? []), '--input-type=commonjs', '-e', BARE_SERVER_JS], { PORT: String(port) });
  return spawnProcess(process.execPath, [...(opts.nodeArgs ?? []), '-e', BARE_SERVER_JS], { PORT: String(port) });
}
