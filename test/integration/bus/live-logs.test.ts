import { expect } from 'chai';
import { connectLiveLogs, MemoryLiveLogs, type LiveLogs } from '../../../shared/bus/live-logs.ts';
import type { LiveMessage } from '../../../shared/logs/protocol.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { until } from './contract.ts';

const line = (seq: number) => ({ seq, stage: 'build', run: 1, time: '2026-01-01T00:00:00.000Z', stream: 'stdout' as const, text: `l${seq}` });

const transports: Array<{ name: string; make: (ctx: Mocha.Context) => Promise<LiveLogs[]> }> = [
  {
    name: 'core NATS',
    make: async (ctx) => {
      const url = await requireService(ctx, 'nats');
      const prefix = `${uniqueName('LIVE')}.`;
      // Publisher and viewer in different connections, as log-ingest and query-api are.
      return [await connectLiveLogs(url, prefix), await connectLiveLogs(url, prefix)];
    },
  },
  {
    name: 'memory',
    make: async () => {
      const m = new MemoryLiveLogs();
      return [m, m];
    },
  },
];

transports.forEach((t) =>
  describe(`live logs: ${t.name}`, () => {
    let publisher: LiveLogs;
    let viewer: LiveLogs;
    beforeEach(async function () {
      [publisher, viewer] = await t.make(this);
    });
    afterEach(async () => {
      await publisher?.close();
      if (viewer !== publisher) await viewer?.close();
    });

    it('delivers messages of one job, in order, only to its subscribers, until unsubscribed', async () => {
      const got: LiveMessage[] = [];
      const other: LiveMessage[] = [];
      const releaseGot: LiveMessage[] = [];
      const off = viewer.subscribe('build', '100', (m) => got.push(m));
      viewer.subscribe('build', '200', (m) => other.push(m));
      viewer.subscribe('release', '100', (m) => releaseGot.push(m));
      await new Promise((r) => setTimeout(r, 50)); // subscription reaches the server
      for (let i = 0; i < 5; i++) publisher.publish('build', '100', { lines: [line(i)] });
      publisher.publish('build', '100', { status: { status: 'succeeded' } });
      publisher.publish('release', '100', { status: { status: 'running' } });
      await until(() => got.length === 6 && releaseGot.length === 1, 3000, 'live messages');
      expect(got.slice(0, 5).map((m) => m.lines![0]!.seq)).to.deep.equal([0, 1, 2, 3, 4]);
      expect(got[5]).to.deep.equal({ status: { status: 'succeeded' } });
      expect(other).to.deep.equal([]);
      expect(releaseGot).to.deep.equal([{ status: { status: 'running' } }]);
      off();
      await new Promise((r) => setTimeout(r, 50));
      publisher.publish('build', '100', { lines: [line(5)] });
      await new Promise((r) => setTimeout(r, 100));
      expect(got).to.have.length(6);
    });
  }),
);
