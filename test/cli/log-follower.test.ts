/**
 * The CLI's log follower against HTTP servers speaking query-api's logs.stream contract
 * (docs/API.md) in the ways a real deployment behaves and a local `estafette start` cannot be
 * made to: a stream cut mid-build (Knative's request timeout), a server that keeps failing, a
 * 404. And the text/event-stream parser on the shapes the format allows.
 */
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { apiClient } from '../../cli/client/api-client.ts';
import { followLog, readSse, type SseEvent } from '../../cli/client/log-follower.ts';
import type { LogLine } from '../../shared/logs/protocol.ts';

const line = (seq: number): LogLine => ({ seq, stage: 'build', run: 1, time: new Date(0).toISOString(), stream: 'stdout', text: `line ${seq}` });
const logEvent = (seq: number) => `event: log\nid: ${seq}\ndata: ${JSON.stringify(line(seq))}\n\n`;

async function serve(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<{ url: string; server: Server; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server, requests };
}

const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream' });

describe('CLI log follower (logs.stream client)', () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => (s.closeAllConnections(), s.close())));

  it('resumes a cut stream with Last-Event-ID and hands on every line once, then the final status', async () => {
    const s = await serve((_req, res, n) => {
      sse(res);
      if (n === 1) {
        res.write('retry: 10\n\n');
        res.write(logEvent(0) + logEvent(1) + logEvent(2));
        setTimeout(() => res.destroy(), 20); // cut mid-build, as a proxy's timeout does
      } else {
        // A server may resend the last line it is unsure of; the follower drops it.
        res.end(logEvent(2) + logEvent(3) + 'event: status\ndata: {"status":"failed"}\n\n' + logEvent(4) + 'event: close\ndata: {"status":"failed"}\n\n');
      }
    });
    servers.push(s.server);
    const seen: number[] = [];
    const statuses: string[] = [];
    const final = await followLog(apiClient(s.url), '/api/x/logs.stream', { onLine: (l) => void seen.push(l.seq), onStatus: (r) => void statuses.push(r.status!) });
    expect(final).to.equal('failed');
    expect(seen).to.deep.equal([0, 1, 2, 3, 4]);
    expect(statuses).to.deep.equal(['failed']);
    expect(s.requests.map((r) => r.headers['last-event-id'])).to.deep.equal([undefined, '2']);
    expect(s.requests.every((r) => r.headers.accept === 'text/event-stream')).to.equal(true);
  });

  it('gives up after the allowed reconnections when the server keeps failing, saying why', async () => {
    const s = await serve((_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":503,"message":"database unavailable"}'));
    servers.push(s.server);
    const err = await followLog(apiClient(s.url), '/api/x/logs.stream', { onLine: () => undefined, retryMs: 5, maxFailures: 3 }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal('lost the log stream: database unavailable (gave up after 3 attempts to reconnect)');
    expect(s.requests).to.have.length(4);
  });

  it('does not retry an answer that will not change (404)', async () => {
    const s = await serve((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":404,"message":"build 12 not found"}'));
    servers.push(s.server);
    const err = await followLog(apiClient(s.url), '/api/x/logs.stream', { onLine: () => undefined, retryMs: 5 }).then(
      () => undefined,
      (e: Error & { status?: number }) => e,
    );
    expect([err?.status, err?.message]).to.deep.equal([404, 'build 12 not found']);
    expect(s.requests).to.have.length(1);
  });

  const parse = async (chunks: string[]): Promise<SseEvent[]> => {
    const out: SseEvent[] = [];
    async function* body() {
      for (const c of chunks) yield new TextEncoder().encode(c);
    }
    for await (const e of readSse(body())) out.push(e);
    return out;
  };
  const cases: Array<{ name: string; chunks: string[]; events: SseEvent[] }> = [
    { name: 'an event split across chunks', chunks: ['event: lo', 'g\nid: 7\nda', 'ta: {"a":1}\n', '\n'], events: [{ event: 'log', id: '7', data: '{"a":1}' }] },
    { name: 'CRLF line ends and a comment', chunks: [': keep-alive\r\nevent: ping\r\ndata: {}\r\n\r\n'], events: [{ event: 'ping', data: '{}' }] },
    { name: 'data on several lines, no space after the colon', chunks: ['data:one\ndata: two\n\n'], events: [{ event: 'message', data: 'one\ntwo' }] },
    { name: 'a retry field alone', chunks: ['retry: 2000\n\n'], events: [{ event: 'message', data: '', retry: 2000 }] },
    { name: 'an unfinished event at the end (dropped)', chunks: ['event: log\ndata: x\n'], events: [] },
  ];
  cases.forEach((c) => it(`parses ${c.name}`, async () => expect(await parse(c.chunks)).to.deep.equal(c.events)));
});
