/**
 * Fault: the live-log transport fails while a builder ships its log. Storing is log-ingest's
 * commit point: a stored batch is acknowledged (202) whatever becomes of its live publish, so
 * the builder never resends it forever; viewers read the stored lines from the database.
 * Two ways NATS fails a publish: its server is away (the connection is reconnecting and buffers),
 * and the connection is closed for good (a publish throws — the old client's fate after its
 * reconnect attempts ran out).
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeHandler } from '../../functions/log-ingest/handler.ts';
import { connectNats } from '../../shared/bus/nats-connection.ts';
import { NatsLiveLogs } from '../../shared/bus/live-logs.ts';
import { createPool } from '../../shared/db/pool.ts';
import { migrate } from '../../shared/db/migrate.ts';
import { readLogLines } from '../../shared/db/logs.ts';
import { toNodeListener } from '../../shared/http/node-adapter.ts';
import { freshDatabase, requireService } from '../support/services.ts';
import { recordingLogger } from '../support/logger.ts';
import { bearer, JWT_KEY, lines, post, seed } from '../integration/query-api/harness.ts';
import { startOwnNats, type OwnService } from './services.ts';

describe('faults: log-ingest acknowledges every stored batch when live logs fail', function () {
  this.timeout(60_000);
  let nats: OwnService;
  let db: { url: string; drop: () => Promise<void> };
  let pool: ReturnType<typeof createPool>;
  const servers: Server[] = [];

  before(async function () {
    db = await freshDatabase(await requireService(this, 'postgres'), 'ingestfault');
    pool = createPool(db.url, { max: 4 });
    await migrate(pool);
    nats = await startOwnNats();
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await pool?.end();
    await db?.drop().catch(() => {});
    await nats?.close();
  });

  async function ingestOver(liveLogs: NatsLiveLogs, logs: string[]): Promise<string> {
    const log = recordingLogger(logs);
    const server = createServer(toNodeListener(makeHandler({ pool, liveLogs, publish: async () => ({ duplicate: false }), jwtKey: JWT_KEY, log }), { log }));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const cases = [
    { name: 'NATS server away (connection reconnecting)', closed: false },
    { name: 'NATS connection closed for good (publish throws)', closed: true },
  ];
  cases.forEach((c) =>
    it(`${c.name}: every batch answers 202 once stored, and is stored exactly once`, async () => {
      if (!nats.running()) await nats.start();
      const nc = await connectNats(nats.url, { name: 'ingest-fault' });
      const logs: string[] = [];
      const url = await ingestOver(new NatsLiveLogs(nc), logs);
      const { builds } = await seed(pool, `commit-${c.closed ? 'closed' : 'away'}`, [{ status: 'running' }]);
      const id = builds[0]!.id;
      const auth = await bearer('build', id);
      const logsUrl = `${url}/api/ingest/builds/${id}/logs`;
      expect((await post(logsUrl, { lines: lines(0, 100) }, auth)).status).to.equal(202);
      if (c.closed) await nc.close();
      else await nats.stop();
      const answers: number[] = [];
      for (let b = 1; b <= 10; b++) answers.push((await post(logsUrl, { lines: lines(b * 100, 100) }, auth)).status);
      expect(answers).to.deep.equal(Array(10).fill(202));
      const stored = await readLogLines(pool, 'build', id, { afterSeq: -1, limit: 5000 });
      expect(stored.map((l) => l.seq)).to.deep.equal(Array.from({ length: 1100 }, (_, i) => i));
      if (c.closed)
        expect(
          logs.filter((l) => /live logs: cannot publish/.test(l)),
          'one line per outage',
        ).to.have.length(1);
      if (!c.closed) {
        await nats.start();
        await nc.close();
      }
    }),
  );
});
