/** The HTTP reporter against an in-test log-ingest: seq, batching, ordering, resend, backpressure. */
import { expect } from 'chai';
import { createLogShipper, type LogShipperOptions } from '../../builder/log-shipper.ts';
import { startIngest, type IngestServer } from './ingest-server.ts';
import { FakeClock } from '../support/fake-clock.ts';

const quiet = { warn: () => undefined };

/** Waits until cond holds (polling), so a loaded machine does not make the spec flaky. */
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('log shipper', function () {
  this.timeout(20_000);
  let ingest: IngestServer | undefined;
  afterEach(async () => {
    await ingest?.close();
    ingest = undefined;
  });

  const shipper = (over: Partial<LogShipperOptions> = {}) => createLogShipper({ url: ingest!.url, token: 'test-token', kind: 'build', id: '42', ...quiet, ...over });

  it('numbers lines with one gap-free seq across stages and delivers status after the lines before it', async () => {
    ingest = await startIngest();
    const s = shipper();
    s.status({ status: 'running' });
    for (let i = 0; i < 3; i++) s.line('a', 1, 'stdout', `a${i}`);
    s.line('b', 2, 'stderr', 'b0');
    s.status({ stages: [{ stage: 'a', run: 1, kind: 'stage', status: 'succeeded' }] });
    s.line('a', 1, 'stdout', 'a3');
    s.status({ status: 'succeeded' });
    expect(await s.close()).to.equal(true);
    expect(ingest.lines).to.deep.equal([
      { stage: 'a', run: 1, text: 'a0', stream: 'stdout' },
      { stage: 'a', run: 1, text: 'a1', stream: 'stdout' },
      { stage: 'a', run: 1, text: 'a2', stream: 'stdout' },
      { stage: 'b', run: 2, text: 'b0', stream: 'stderr' },
      { stage: 'a', run: 1, text: 'a3', stream: 'stdout' },
    ]);
    expect(ingest.linesAtStatus).to.deep.equal([0, 4, 5]);
  });

  it('coalesces waiting status reports but never merges two job transitions', async () => {
    ingest = await startIngest({ delayMs: 50 });
    const s = shipper();
    s.status({ status: 'running' });
    for (let i = 0; i < 5; i++) s.status({ stages: [{ stage: `s${i}`, run: 1, kind: 'stage', status: 'succeeded' }] });
    s.status({ status: 'succeeded', stages: [{ stage: 's5', run: 1, kind: 'stage', status: 'succeeded' }] });
    expect(await s.close()).to.equal(true);
    expect(ingest.statuses.map((r) => r.status ?? '-')).to.deep.equal(['running', 'succeeded']);
    expect(ingest.statuses.flatMap((r) => r.stages ?? []).map((x) => x.stage)).to.deep.equal(['s0', 's1', 's2', 's3', 's4', 's5']);
  });

  it('batches by size (500 lines) and by time (~250 ms)', async () => {
    ingest = await startIngest();
    const s = shipper();
    for (let i = 0; i < 1200; i++) s.line('s', 1, 'stdout', String(i));
    await until(() => ingest!.batchSizes.length >= 3);
    expect(ingest.batchSizes).to.deep.equal([500, 500, 200]);
    s.line('s', 1, 'stdout', 'late');
    await new Promise((r) => setTimeout(r, 150));
    expect(ingest.batchSizes.length, 'not sent before the flush interval').to.equal(3);
    await until(() => ingest!.batchSizes.length >= 4);
    expect(ingest.batchSizes).to.deep.equal([500, 500, 200, 1]);
    await s.close();
  });

  it('resends a batch until acknowledged, with the same seqs, also after a lost acknowledgement', async () => {
    ingest = await startIngest({ failEvery: 2, lostAckEvery: 3 });
    const s = shipper({ initialBackoffMs: 5, batchLines: 10 });
    for (let i = 0; i < 100; i++) s.line('s', 1, 'stdout', `line ${i}`);
    s.status({ status: 'succeeded' });
    expect(await s.close()).to.equal(true);
    expect(ingest.lines.map((l) => l?.text)).to.deep.equal(Array.from({ length: 100 }, (_, i) => `line ${i}`));
    expect(s.stats.retries).to.be.greaterThan(5);
    expect(ingest.resentLines).to.be.greaterThan(0);
    expect(ingest.conflicts).to.equal(0);
  });

  it('applies backpressure while too many lines are unacknowledged', async () => {
    ingest = await startIngest({ delayMs: 100 });
    const s = shipper({ batchLines: 10, maxUnacked: 50 });
    let firstPause = -1;
    for (let i = 0; i < 60; i++) {
      const r = s.line('s', 1, 'stdout', String(i));
      if (r && firstPause < 0) {
        firstPause = i;
        const t0 = Date.now();
        await r;
        expect(Date.now() - t0, 'paused until acknowledgements came').to.be.greaterThan(50);
      }
    }
    expect(firstPause).to.equal(49);
    await s.close();
    expect(ingest.lines.filter(Boolean)).to.have.length(60);
  });

  it('drops a report the ingest refuses for good (401) instead of retrying forever', async () => {
    ingest = await startIngest();
    const warnings: string[] = [];
    const s = createLogShipper({ url: ingest.url, token: 'wrong', kind: 'build', id: '42', warn: (m) => warnings.push(m) });
    s.line('s', 1, 'stdout', 'x');
    s.status({ status: 'succeeded' });
    expect(await s.close()).to.equal(false);
    expect(s.stats.dropped).to.equal(2);
    expect(warnings[0]).to.match(/HTTP 401/);
    expect(warnings.join('\n')).to.not.include('wrong');
  });

  it('gives up after the close deadline when the ingest is unreachable', async () => {
    ingest = await startIngest();
    const url = ingest.url;
    await ingest.close();
    ingest = undefined;
    const s = createLogShipper({ url, token: 't', kind: 'build', id: '1', closeDeadlineMs: 300, initialBackoffMs: 20, ...quiet });
    s.status({ status: 'failed' });
    const t0 = Date.now();
    expect(await s.close()).to.equal(false);
    expect(Date.now() - t0).to.be.lessThan(3000);
  });

  describe('heartbeats (fake clock)', () => {
    const sent = (): number => ingest!.statuses.length + ingest!.batchSizes.length + ingest!.heartbeats.length;

    it('sends a heartbeat after 10 s without any report, none while reports keep coming, none after close', async () => {
      ingest = await startIngest();
      const clock = new FakeClock();
      const s = shipper({ clock });
      s.status({ status: 'running' });
      await until(() => ingest!.statuses.length === 1);
      await clock.advance(9_999);
      expect(ingest.heartbeats, 'before 10 s').to.have.length(0);
      await clock.advance(1);
      await until(() => ingest!.heartbeats.length === 1);
      expect(ingest.heartbeats[0]!.sentAt).to.equal(new Date(clock.now()).toISOString());
      // A line every 4 s: each batch is a sign of life, so no heartbeat in 40 s.
      for (let i = 0; i < 10; i++) {
        s.line('quiet', 1, 'stdout', `tick ${i}`);
        const before = sent();
        await clock.advance(4_000);
        await until(() => sent() > before);
      }
      expect(ingest.heartbeats).to.have.length(1);
      expect(ingest.batchSizes).to.have.length(10);
      await clock.advance(10_000);
      await until(() => ingest!.heartbeats.length === 2);
      expect(await s.close()).to.equal(true);
      await clock.advance(60_000);
      expect(ingest.heartbeats, 'after close').to.have.length(2);
      expect(clock.pending, 'timers left after close').to.equal(0);
    });

    it('uses the configured interval', async () => {
      ingest = await startIngest();
      const clock = new FakeClock();
      const s = shipper({ clock, heartbeatMs: 3_000 });
      await clock.advance(3_000);
      await until(() => ingest!.heartbeats.length === 1);
      await clock.advance(3_000);
      await until(() => ingest!.heartbeats.length === 2);
      await s.close();
    });
  });

  it('giveUpAfter ends a close that would otherwise retry for minutes (fake clock)', async () => {
    ingest = await startIngest();
    const url = ingest.url;
    await ingest.close();
    ingest = undefined;
    const clock = new FakeClock();
    const s = createLogShipper({ url, token: 't', kind: 'build', id: '1', clock, ...quiet });
    s.status({ status: 'canceled' });
    const closing = s.close();
    s.giveUpAfter(5_000);
    const t0 = clock.now();
    expect(await clock.advanceUntil(closing)).to.equal(false);
    expect(clock.now() - t0, 'fake ms until close gave up').to.be.below(10_000);
    expect(s.stats.dropped).to.equal(1);
  });
});
