/**
 * Fault: a stage prints 200,000 lines fast while shipping is slow (the ingest holds one answer
 * for 4 s near the end, after the stage has exited with its tail still in the pipe), and 20 SSE
 * viewers follow the build live over core NATS. Every line must be stored, and every viewer must
 * receive every line exactly once, in order, then `close`. The real builder process (host
 * executor) ships to the real log-ingest through a stalling proxy; query-api streams from real
 * PostgreSQL and NATS.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signJobToken } from '../../shared/auth/job-token.ts';
import { readLogLines } from '../../shared/db/logs.ts';
import { configOf, planOf, stage } from '../fixtures/builder/plans.ts';
import { JWT_KEY, seed, startHarness, type Harness } from '../integration/query-api/harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const N = Number(process.env.ESTAFETTE_FAULTS_LINES ?? 200_000);
const VIEWERS = 20;
const STALL_AFTER_SEQ = Math.floor(N * 0.95);

/** Forwards to `target`, holding back the answer to the first batch that reaches `afterSeq` for `ms`. */
async function stallingProxy(target: string, afterSeq: number, ms: number): Promise<{ url: string; server: Server; stalled: () => boolean }> {
  let stalled = false;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      try {
        const upstream = await fetch(`${target}${req.url}`, {
          method: req.method,
          headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
          body: req.method === 'POST' ? body : undefined,
        });
        const text = await upstream.text();
        if (!stalled && req.url?.endsWith('/logs')) {
          const seqs = ((JSON.parse(body.toString()) as { lines?: Array<{ seq: number }> }).lines ?? []).map((l) => l.seq);
          if (seqs.some((s) => s >= afterSeq)) {
            stalled = true;
            await new Promise((r) => setTimeout(r, ms));
          }
        }
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(text);
      } catch (err) {
        res.writeHead(502).end(String(err));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, stalled: () => stalled };
}

/** What one viewer saw, checked as it arrives (200k events × 20 viewers would not fit in memory). */
interface Seen {
  lines: number;
  /** First seq that was not the one expected next (missing, repeated or out of order), -1 if none. */
  firstWrong: number;
  last: string;
}

/** Follows an SSE log stream until `event: close` (or the timeout), checking seqs 0, 1, 2, … */
async function follow(url: string, timeoutMs: number): Promise<Seen> {
  const seen: Seen = { lines: 0, firstWrong: -1, last: '' };
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      // One slice per chunk, not per event: 20 readers of 200k events must not copy quadratically.
      let at = 0;
      for (let i = buf.indexOf('\n\n', at); i >= 0; i = buf.indexOf('\n\n', at)) {
        const block = buf.slice(at, i);
        at = i + 2;
        const event = block.startsWith('event: ') ? block.slice(7, block.indexOf('\n') < 0 ? undefined : block.indexOf('\n')) : undefined;
        if (!event) continue;
        seen.last = event;
        // A line's event carries its seq as the event id; Estafette's step events (a stage's status, no id) are not lines.
        if (event === 'log' && block.includes('\nid: ')) {
          const from = block.indexOf('\nid: ') + 5;
          const seq = Number(block.slice(from, block.indexOf('\n', from)));
          if (seq !== seen.lines && seen.firstWrong < 0) seen.firstWrong = seen.lines;
          seen.lines++;
        }
        if (event === 'close') return seen;
      }
      buf = buf.slice(at);
    }
  } catch (err) {
    if ((err as Error).name !== 'TimeoutError' && (err as Error).name !== 'AbortError') throw err;
  }
  return seen;
}

describe(`faults: ${N} lines printed fast, shipping stalled near the end, ${VIEWERS} live SSE viewers over NATS`, function () {
  this.timeout(300_000);
  let h: Harness;
  let dir: string;
  let proxy: Awaited<ReturnType<typeof stallingProxy>> | undefined;
  before(async function () {
    h = await startHarness(this, { pingMs: 2000 });
    dir = mkdtempSync(join(tmpdir(), 'estafette-faults-lines-'));
  });
  after(async () => {
    if (proxy) {
      proxy.server.closeAllConnections();
      await new Promise((r) => proxy!.server.close(r));
    }
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every line is stored, and each viewer receives every line exactly once, in order, then close', async () => {
    const { builds } = await seed(h.pool, 'live-lines', [{ status: 'pending' }]);
    const id = builds[0]!.id;
    proxy = await stallingProxy(h.ingestUrl, STALL_AFTER_SEQ, 4000);
    const url = `${h.apiUrl}/api/pipelines/github.com/estafette/live-lines/builds/${id}/logs.stream`;
    const viewers = Array.from({ length: VIEWERS }, () => follow(url, 240_000));
    // Every viewer is subscribed before the stage starts printing.
    while (h.activeSubscriptions() < VIEWERS) await new Promise((r) => setTimeout(r, 50));

    const token = await signJobToken(JWT_KEY, { kind: 'build', id }, 3600);
    const config = configOf(planOf([stage('big', [`seq 1 ${N}`])]), join(dir, 'work'), { job: { kind: 'build', id }, ingest: { url: proxy.url, token } });
    const file = join(dir, 'builder-config.json');
    writeFileSync(file, JSON.stringify(config));
    const started = Date.now();
    const builder = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'builder/main.ts')], { cwd: ROOT, env: { ...process.env, BUILDER_CONFIG_PATH: file }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    builder.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => builder.once('exit', r));
    const built = Date.now() - started;
    expect(code, stderr.slice(-2000)).to.equal(0);
    expect(proxy.stalled(), 'the ingest stalled once near the end').to.equal(true);

    const stored: Awaited<ReturnType<typeof readLogLines>> = [];
    for (let page = await readLogLines(h.pool, 'build', id, { afterSeq: -1, limit: 50_000 }); page.length; page = await readLogLines(h.pool, 'build', id, { afterSeq: stored.at(-1)!.seq, limit: 50_000 }))
      stored.push(...page);
    const texts = stored.filter((l) => l.stage === 'big').map((l) => l.text);
    expect(texts[0]).to.equal(`> seq 1 ${N}`);
    let bad = -1;
    for (let i = 1; i <= N && bad < 0; i++) if (texts[i] !== String(i)) bad = i;
    expect(bad, `first stored line missing or wrong at ${bad}`).to.equal(-1);
    expect(stored.map((l) => l.seq)).to.deep.equal(stored.map((_, i) => i));

    const all = await Promise.all(viewers);
    const streamed = Date.now() - started;
    const want = stored.length;
    all.forEach((seen, v) => {
      expect(seen.firstWrong, `viewer ${v}: first missing, repeated or out-of-order line at ${seen.firstWrong} of ${want} (got ${seen.lines})`).to.equal(-1);
      expect(seen.lines, `viewer ${v}: lines`).to.equal(want);
      expect(seen.last, `viewer ${v}: ends with close`).to.equal('close');
    });
    console.log(`      ${N} lines: builder done in ${built} ms, ${stored.length} lines stored, ${VIEWERS} viewers × ${want} lines each exactly once in order, all closed ${streamed} ms after start`);
  });
});
