/**
 * How a function stops when Knative scales it down (SIGTERM), run as its bundle: query-api with
 * a live log stream open sends that stream a final `reconnect` event (with the last id sent and a
 * short `retry`, so the browser's EventSource resumes with Last-Event-ID on another instance at
 * once), ends it, and exits 0 well within the grace period; an idle function exits 0 too.
 * test/deploy/containers.test.ts shows the same in the images, as PID 1 under `docker stop`.
 */
import { expect } from 'chai';
import { freePort } from '../../cli/start/database.ts';
import { appendLogLines } from '../../shared/db/logs.ts';
import { createPool } from '../../shared/db/pool.ts';
import { migrate } from '../../shared/db/migrate.ts';
import { spawnFunction, waitForHttp } from '../support/processes.ts';
import { freshDatabase, requireService, uniqueName } from '../support/services.ts';
import { lines, readSse, seed } from '../integration/query-api/harness.ts';

describe('deploy: SIGTERM', function () {
  this.timeout(60_000);
  let db: { url: string; drop: () => Promise<void> };
  let natsUrl = '';
  before(async function () {
    db = await freshDatabase(await requireService(this, 'postgres'), 'stop');
    natsUrl = await requireService(this, 'nats');
    const pool = createPool(db.url, { max: 1 });
    await migrate(pool);
    await pool.end();
  });
  after(async () => db?.drop());

  const exited = (child: ReturnType<typeof spawnFunction>['child']) => new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));

  it('query-api ends an open log stream with a reconnect event, then exits 0', async () => {
    const pool = createPool(db.url, { max: 2 });
    const { builds } = await seed(pool, 'stopping', [{ status: 'running' }]);
    await appendLogLines(pool, 'build', builds[0]!.id, lines(0, 2));
    await pool.end();
    const port = await freePort();
    const proc = spawnFunction('query-api', {
      PORT: String(port),
      DATABASE_URL: db.url,
      NATS_URL: natsUrl,
      ESTAFETTE_BUS_SUBJECT_PREFIX: `${uniqueName('STOP')}.`,
      K_SINK: undefined,
      K_SERVICE: undefined,
      ESTAFETTE_AUTH: undefined,
    });
    const exit = exited(proc.child);
    await waitForHttp(`http://127.0.0.1:${port}/liveness`);
    let signalled = false;
    const { events } = await readSse(`http://127.0.0.1:${port}/api/pipelines/github.com/estafette/stopping/builds/${builds[0]!.id}/logs.stream`, {
      timeoutMs: 15_000,
      onEvent: (e) => {
        if (e.event === 'log' && !signalled) signalled = proc.child.kill('SIGTERM');
      },
    });
    expect(
      events.map((e) => e.event),
      proc.output(),
    ).to.deep.equal(['log', 'log', 'reconnect']);
    expect(JSON.parse(events[2]!.data)).to.deep.equal({ lastEventId: 1 });
    expect(await exit, proc.output()).to.deep.equal({ code: 0, signal: null });
  });

  it('an idle function exits 0', async () => {
    const port = await freePort();
    const proc = spawnFunction('webhook-ingest', { PORT: String(port), K_SINK: 'http://127.0.0.1:1', K_SERVICE: undefined, ESTAFETTE_AUTH: undefined });
    const exit = exited(proc.child);
    await waitForHttp(`http://127.0.0.1:${port}/liveness`);
    proc.child.kill('SIGTERM');
    expect(await exit, proc.output()).to.deep.equal({ code: 0, signal: null });
  });
});
