/**
 * The floor for webhook ingest: the least work a webhook endpoint can do and still be correct —
 * a plain-JavaScript server (no framework, no TypeScript, no bundle) that reads the body, checks
 * GitHub's HMAC signature in constant time and makes one acknowledged JetStream publish with the
 * delivery id as message id, then answers 202. webhook-ingest is measured against it in the same
 * run (bench/webhook-ingest.ts), so the ratio says what our code costs on top of the work itself.
 */
import { spawnProcess, type Proc } from './environment.ts';

/** Source of the floor server (settings from its environment; prints one line once listening). */
export const FLOOR_SERVER_JS = `
const http = require('node:http');
const crypto = require('node:crypto');
const { connect, headers } = require('nats');
(async () => {
  const nc = await connect({ servers: process.env.NATS_URL });
  const jsm = await nc.jetstreamManager();
  const subject = process.env.FLOOR_SUBJECT_PREFIX + 'ci.estafette.git.push';
  await jsm.streams.add({ name: process.env.FLOOR_STREAM, subjects: [process.env.FLOOR_SUBJECT_PREFIX + 'ci.estafette.>'] }).catch(() => {});
  const js = nc.jetstream();
  const secret = process.env.FLOOR_SECRET;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      if (req.method === 'GET') return res.writeHead(200).end('ok');
      const body = Buffer.concat(chunks);
      const want = Buffer.from('sha256=' + crypto.createHmac('sha256', secret).update(body).digest('hex'));
      const got = Buffer.from(String(req.headers['x-hub-signature-256'] || ''));
      if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) return res.writeHead(401).end();
      try {
        const h = headers();
        h.set('ce-type', 'ci.estafette.git.push');
        await js.publish(subject, body, { msgID: String(req.headers['x-github-delivery']), headers: h });
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":true}');
      } catch (err) {
        res.writeHead(500).end(String(err.message));
      }
    });
  });
  server.listen(Number(process.env.PORT), () => console.log('floor listening on ' + process.env.PORT));
  process.on('SIGTERM', () => server.close(() => nc.close().then(() => process.exit(0))));
})();
`;

/** Starts the floor server on `port`, publishing into `stream` under `subjectPrefix`. */
export function spawnFloor(port: number, o: { secret: string; stream: string; subjectPrefix: string; env: Record<string, string> }): Proc {
  return spawnProcess(process.execPath, ['-e', FLOOR_SERVER_JS], {
    PORT: String(port),
    NATS_URL: o.env.NATS_URL,
    FLOOR_SECRET: o.secret,
    FLOOR_STREAM: o.stream,
    FLOOR_SUBJECT_PREFIX: o.subjectPrefix,
  });
}
