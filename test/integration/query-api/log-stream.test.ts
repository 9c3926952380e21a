/**
 * `…/logs.stream` over real HTTP with log-ingest writing into PostgreSQL and publishing on core
 * NATS: a viewer connected mid-build gets every line exactly once, in order, then `close`; a
 * reconnect with Last-Event-ID resumes exactly; lines missed on the live channel are read from
 * the database; pings and status events flow.
 */
import { expect } from 'chai';
import { transitionBuildStatus } from '../../../shared/db/builds.ts';
import { appendLogLines } from '../../../shared/db/logs.ts';
import { createRelease } from '../../../shared/db/releases.ts';
import { bearer, lines, post, readSse, seed, startHarness, type Harness, type SseEvent } from './harness.ts';

describe('query-api log stream (SSE, PostgreSQL, NATS)', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async function () {
    h = await startHarness(this, { pingMs: 300 });
  });
  after(async () => h?.stop());

  const streamUrl = (repo: string, id: string, kind = 'builds') => `${h.apiUrl}/api/pipelines/github.com/estafette/${repo}/${kind}/${id}/logs.stream`;
  const seqs = (events: SseEvent[]) => events.filter((e) => e.event === 'log').map((e) => Number(e.id));
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

  /** Posts lines [from, to) in shuffled batches (some twice), then optionally the final status. */
  async function produce(id: string, from: number, to: number, final?: 'succeeded' | 'failed', kind: 'build' | 'release' = 'build') {
    const headers = await bearer(kind, id);
    const batches: ReturnType<typeof lines>[] = [];
    for (let i = from; i < to; i += 37) batches.push(lines(i, Math.min(37, to - i)));
    // Neighbouring batches swapped and every fourth one resent: live lines arrive out of order and twice.
    for (let i = 0; i + 1 < batches.length; i += 2) [batches[i], batches[i + 1]] = [batches[i + 1]!, batches[i]!];
    for (const [i, b] of batches.entries()) {
      expect((await post(`${h.ingestUrl}/api/ingest/${kind}s/${id}/logs`, { lines: b }, headers)).status).to.equal(202);
      if (i % 4 === 0) await post(`${h.ingestUrl}/api/ingest/${kind}s/${id}/logs`, { lines: b }, headers);
      if (i % 5 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    if (final) expect((await post(`${h.ingestUrl}/api/ingest/${kind}s/${id}/status`, { status: final }, headers)).status).to.equal(202);
  }

  it('a viewer connected mid-build receives every line exactly once, in order, then close', async () => {
    const { builds } = await seed(h.pool, 'mid', [{ status: 'running' }]);
    const id = builds[0]!.id;
    await produce(id, 0, 300);
    let started!: () => void;
    const connected = new Promise<void>((r) => (started = r));
    const reading = readSse(streamUrl('mid', id), { stop: (e) => e.event === 'close', onEvent: (e) => e.event === 'log' && e.id === '100' && started() });
    await connected;
    await produce(id, 300, 1500, 'succeeded');
    const { res, events } = await reading;
    expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).to.equal('no-cache');
    expect(res.headers.get('x-accel-buffering')).to.equal('no');
    expect(seqs(events)).to.deep.equal(range(0, 1500));
    for (const e of events.filter((x) => x.event === 'log')) expect(JSON.parse(e.data).seq).to.equal(Number(e.id));
    expect(JSON.parse(events.find((e) => e.id === '7')!.data)).to.deep.include(lines(7, 1)[0]);
    expect(events.at(-1)).to.deep.include({ event: 'close' });
    expect(JSON.parse(events.at(-1)!.data)).to.deep.equal({ status: 'succeeded' });
    expect(events.filter((e) => e.event === 'status').map((e) => JSON.parse(e.data))).to.deep.equal([{ status: 'succeeded' }]);
  });

  it('a viewer that reconnects with Last-Event-ID resumes exactly after it, across the live switch', async () => {
    const { builds } = await seed(h.pool, 'resume', [{ status: 'running' }]);
    const id = builds[0]!.id;
    await produce(id, 0, 200);
    const producing = (async () => {
      await new Promise((r) => setTimeout(r, 50));
      await produce(id, 200, 900);
    })();
    // First connection: cut after seq 450 (as Knative's request timeout would).
    const first = await readSse(streamUrl('resume', id), { stop: (e) => e.event === 'log' && e.id === '450' });
    await producing;
    const lastId = first.events.filter((e) => e.event === 'log').at(-1)!.id!;
    const finishing = (async () => {
      await new Promise((r) => setTimeout(r, 100));
      await produce(id, 900, 1000, 'succeeded');
    })();
    const second = await readSse(streamUrl('resume', id), { headers: { 'last-event-id': lastId }, stop: (e) => e.event === 'close' });
    await finishing;
    expect(lastId).to.equal('450');
    expect([...seqs(first.events), ...seqs(second.events)]).to.deep.equal(range(0, 1000));
    expect(second.events.at(-1)!.event).to.equal('close');
    // Reconnecting after the end gives only the close event.
    const third = await readSse(streamUrl('resume', id), { headers: { 'last-event-id': '999' }, stop: (e) => e.event === 'close' });
    expect(third.events.map((e) => e.event)).to.deep.equal(['close']);
  });

  it('lines missed on the live channel (a gap in seq) are read from the database', async () => {
    const { builds } = await seed(h.pool, 'gap', [{ status: 'running' }]);
    const id = builds[0]!.id;
    await produce(id, 0, 10);
    const reading = readSse(streamUrl('gap', id), { stop: (e) => e.event === 'close' });
    await new Promise((r) => setTimeout(r, 300));
    // Stored but never published (another instance's message lost): only the database has them.
    await appendLogLines(h.pool, 'build', id, lines(10, 20));
    await produce(id, 30, 40, 'failed');
    const { events } = await reading;
    expect(seqs(events)).to.deep.equal(range(0, 40));
    // Filled while live (before the final status), not only by the catch-up at close.
    expect(events.findIndex((e) => e.id === '39')).to.be.lessThan(events.findIndex((e) => e.event === 'status'));
    expect(events.at(-1)!.event).to.equal('close');
  });

  it('a hole that never fills (a lost batch) is skipped after a ping interval, not waited on forever', async () => {
    const { builds } = await seed(h.pool, 'hole', [{ status: 'running' }]);
    const id = builds[0]!.id;
    await produce(id, 0, 5);
    const reading = readSse(streamUrl('hole', id), { stop: (e) => e.id === '9', timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    await produce(id, 6, 10); // seq 5 never arrives; the build keeps running
    const { events } = await reading;
    expect(seqs(events)).to.deep.equal([0, 1, 2, 3, 4, 6, 7, 8, 9]);
    expect(events.filter((e) => e.event === 'close')).to.have.length(0);
  });

  it('pings while idle and forwards status reports (stages) as status events', async () => {
    const { builds } = await seed(h.pool, 'ping', [{ status: 'running' }]);
    const id = builds[0]!.id;
    const reading = readSse(streamUrl('ping', id), { stop: (e, all) => e.event === 'close' || (all.filter((x) => x.event === 'ping').length >= 2 && all.some((x) => x.event === 'status')) });
    await new Promise((r) => setTimeout(r, 150));
    const stage = { stage: 'build', run: 1, kind: 'stage', status: 'running' };
    await post(`${h.ingestUrl}/api/ingest/builds/${id}/status`, { stages: [stage] }, await bearer('build', id));
    const { events } = await reading;
    expect(events.filter((e) => e.event === 'ping')).to.have.length.greaterThanOrEqual(2);
    expect(events.filter((e) => e.event === 'status').map((e) => JSON.parse(e.data))).to.deep.equal([{ stages: [stage] }]);
    expect(events.every((e) => e.event !== 'status' || e.id === undefined)).to.equal(true);
  });

  it('a final job: stored lines then close at once; releases stream the same way', async () => {
    const { pipeline, builds } = await seed(h.pool, 'done', [{ status: 'succeeded' }]);
    await appendLogLines(h.pool, 'build', builds[0]!.id, lines(0, 25));
    const b = await readSse(streamUrl('done', builds[0]!.id), { timeoutMs: 5000 });
    expect(seqs(b.events)).to.deep.equal(range(0, 25));
    expect(b.events.at(-1)!.event).to.equal('close');

    const { release } = await createRelease(h.pool, { pipelineId: pipeline.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'done', name: 'production', version: builds[0]!.buildVersion });
    await post(`${h.ingestUrl}/api/ingest/releases/${release.id}/status`, { status: 'running' }, await bearer('release', release.id));
    const reading = readSse(streamUrl('done', release.id, 'releases'), { stop: (e) => e.event === 'close' });
    await new Promise((r) => setTimeout(r, 200));
    await produce(release.id, 0, 120, 'succeeded', 'release');
    const r = await reading;
    expect(seqs(r.events)).to.deep.equal(range(0, 120));
    expect(r.events.at(-1)!.event).to.equal('close');
  });

  it('a job ended outside log-ingest (reconciler, cancel) closes the stream at the next ping', async () => {
    const { builds } = await seed(h.pool, 'reaped', [{ status: 'running' }]);
    const id = builds[0]!.id;
    await produce(id, 0, 5);
    const reading = readSse(streamUrl('reaped', id), { stop: (e) => e.event === 'close', timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    await transitionBuildStatus(h.pool, id, 'failed'); // no live message, as the reconciler does
    const { events } = await reading;
    expect(seqs(events)).to.deep.equal(range(0, 5));
    expect(events.slice(-2).map((e) => [e.event, JSON.parse(e.data)])).to.deep.equal([
      ['status', { status: 'failed' }],
      ['close', { status: 'failed' }],
    ]);
  });

  it('a viewer going away ends its stream and its live subscription', async () => {
    const { builds } = await seed(h.pool, 'leave', [{ status: 'running' }]);
    const id = builds[0]!.id;
    await produce(id, 0, 20);
    const before = h.activeSubscriptions();
    const { events } = await readSse(streamUrl('leave', id), { stop: (e) => e.id === '19' });
    expect(seqs(events)).to.deep.equal(range(0, 20));
    // Sooner than the next ping (300 ms): the abort itself ends it, not a failed write.
    for (let i = 0; i < 10 && h.activeSubscriptions() > before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(h.activeSubscriptions()).to.equal(before);
  });

  it('unknown build → 404 JSON before any stream starts', async () => {
    await seed(h.pool, 'nostream', []);
    const res = await fetch(streamUrl('nostream', '123456789'));
    expect(res.status).to.equal(404);
    expect(await res.json()).to.deep.equal({ status: 404, message: 'build 123456789 not found' });
  });
});
