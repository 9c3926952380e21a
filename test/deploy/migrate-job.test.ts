/**
 * The migration Job's command line, taken from the rendered manifest and run in the checkout (the
 * image holds the same files) against a fresh real PostgreSQL database: it creates the schema, and
 * a second run — the next deploy — changes nothing and still succeeds.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { freshDatabase, requireService } from '../support/services.ts';
import { at, ofKind, renderedObjects, requireKubectl, ROOT } from './documents.ts';

describe('deploy: the migration Job', function () {
  this.timeout(60_000);
  let db: { url: string; drop: () => Promise<void> };

  before(async function () {
    requireKubectl(this);
    db = await freshDatabase(await requireService(this, 'postgres'), 'deploy');
  });
  after(async () => db?.drop());

  const command = (): string[] => {
    const job = ofKind(renderedObjects('knative/overlays/dev'), 'Job', 'batch').find((j) => j.metadata.name === 'estafette-migrate');
    return at(job, 'spec', 'template', 'spec', 'containers', 0, 'command') as string[];
  };
  const runJob = () => {
    const [bin, ...args] = command();
    return spawnSync(bin, args, { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url }, encoding: 'utf8', timeout: 50_000 });
  };
  const tables = async (): Promise<string[]> => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const r = await c.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
      return r.rows.map((row) => row.table_name);
    } finally {
      await c.end();
    }
  };

  it('creates the schema, and a second run succeeds without changing it', async () => {
    expect(await tables()).to.deep.equal([]);
    const first = runJob();
    expect(first.status, first.stderr).to.equal(0);
    const created = await tables();
    expect(created).to.include.members(['pipelines', 'builds']);
    const second = runJob();
    expect(second.status, second.stderr).to.equal(0);
    expect(await tables()).to.deep.equal(created);
  });
});
