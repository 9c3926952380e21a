import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { createPool } from '../../../shared/db/pool.ts';
import { loadMigrations, migrate, splitStatements } from '../../../shared/db/migrate.ts';
import { freshDatabase, requireService } from '../../support/services.ts';

const root = new URL('../../../', import.meta.url).pathname;

function runCli(url: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['bin/estafette.js', 'migrate'], { cwd: root, env: { ...process.env, DATABASE_URL: url } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code, out }));
  });
}

async function schemaOf(url: string): Promise<{ tables: string[]; records: { version: string; n: string }[] }> {
  const pool = createPool(url);
  try {
    const tables = await pool.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`);
    const records = await pool.query<{ version: string; n: string }>('SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version');
    return { tables: tables.rows.map((r) => r.table_name), records: records.rows };
  } finally {
    await pool.end();
  }
}

const EXPECTED_TABLES = [
  'bots',
  'build_counters',
  'builds',
  'bus_consumers',
  'bus_dead_letters',
  'bus_deliveries',
  'bus_events',
  'cron_firings',
  'log_lines',
  'pipelines',
  'processed_events',
  'queue_locks',
  'release_approvals',
  'releases',
  'schema_migrations',
  'schema_migrations_lock',
  'stage_runs',
  'triggers',
];

describe('db: migrations', function () {
  let server: string;
  const drops: Array<() => Promise<void>> = [];
  before(async function () {
    server = await requireService(this, 'postgres');
  });
  after(async () => {
    await Promise.all(drops.map((d) => d()));
  });
  const fresh = async () => {
    const db = await freshDatabase(server, 'mig');
    drops.push(db.drop);
    return db.url;
  };
  const versions = loadMigrations().map((m) => ({ version: m.version, n: '1' }));

  it('applies every migration once, and a second run applies nothing', async () => {
    const url = await fresh();
    const pool = createPool(url);
    try {
      expect((await migrate(pool)).applied).to.deep.equal(versions.map((v) => v.version));
      expect((await migrate(pool)).applied).to.deep.equal([]);
    } finally {
      await pool.end();
    }
    const s = await schemaOf(url);
    expect(s.tables).to.deep.equal(EXPECTED_TABLES);
    expect(s.records).to.deep.equal(versions);
  });

  it('five pools racing leave one schema and one record per migration', async () => {
    const url = await fresh();
    const pools = Array.from({ length: 5 }, () => createPool(url, { max: 2 }));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, { pollMs: 20 })));
      // Exactly one runner applied each migration.
      expect(results.flatMap((r) => r.applied).sort()).to.deep.equal(versions.map((v) => v.version));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    expect((await schemaOf(url)).records).to.deep.equal(versions);
  });

  it('two `estafette migrate` processes at once both succeed with one record per migration', async () => {
    const url = await fresh();
    const [a, b] = await Promise.all([runCli(url), runCli(url)]);
    expect(a.code, a.out).to.equal(0);
    expect(b.code, b.out).to.equal(0);
    expect(`${a.out}${b.out}`.match(/applying 0001_/g)).to.have.length(1);
    const s = await schemaOf(url);
    expect(s.tables).to.deep.equal(EXPECTED_TABLES);
    expect(s.records).to.deep.equal(versions);
  });

  it('takes over a lease left by a runner that died', async () => {
    const url = await fresh();
    const pool = createPool(url);
    try {
      await pool.query(`CREATE TABLE schema_migrations_lock (id INT8 PRIMARY KEY, holder TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)`);
      await pool.query(`INSERT INTO schema_migrations_lock VALUES (1, 'dead', now() + INTERVAL '300 milliseconds')`);
      const started = Date.now();
      expect((await migrate(pool, { pollMs: 20 })).applied).to.have.length(versions.length);
      expect(Date.now() - started).to.be.greaterThanOrEqual(200);
    } finally {
      await pool.end();
    }
  });

  it('completes a migration that a dead runner applied only half of', async () => {
    const url = await fresh();
    const pool = createPool(url);
    try {
      const stmts = splitStatements(loadMigrations()[0]!.sql);
      for (const stmt of stmts.slice(0, Math.floor(stmts.length / 2))) await pool.query(stmt);
      expect((await migrate(pool)).applied).to.deep.equal(versions.map((v) => v.version));
    } finally {
      await pool.end();
    }
    const s = await schemaOf(url);
    expect(s.tables).to.deep.equal(EXPECTED_TABLES);
    expect(s.records).to.deep.equal(versions);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const url = await fresh();
    const pool = createPool(url);
    try {
      await migrate(pool);
      await pool.query(`UPDATE schema_migrations SET checksum = 'x' WHERE version = '0001'`);
      let err: Error | undefined;
      await migrate(pool).catch((e: Error) => (err = e));
      expect(err?.message).to.match(/0001_initial was changed after it was applied/);
    } finally {
      await pool.end();
    }
  });

  it('the CLI reports a missing DATABASE_URL in one line', async () => {
    const r = await runCli('');
    expect(r.code).to.equal(1);
    expect(r.out.trim()).to.match(/^estafette migrate: DATABASE_URL is not set/);
    expect(r.out).not.to.match(/\n\s+at /);
  });
});

describe('db: splitStatements', () => {
  const cases = [
    { name: 'statements and trailing text', sql: 'CREATE TABLE a (x INT);\nCREATE INDEX i ON a (x)', want: ['CREATE TABLE a (x INT)', 'CREATE INDEX i ON a (x)'] },
    { name: 'semicolons in strings and comments', sql: "-- a; b\nINSERT INTO t VALUES ('x;y', 'it''s; ok'); /* c; d */ SELECT \"a;b\";", want: ["INSERT INTO t VALUES ('x;y', 'it''s; ok')", 'SELECT "a;b"'] },
    { name: 'comment-only pieces dropped', sql: '-- only a comment\n;\n  ;', want: [] },
  ];
  cases.forEach((c) => it(c.name, () => expect(splitStatements(c.sql)).to.deep.equal(c.want)));
  it('splits the real migrations into their statements', () => {
    const stmts = splitStatements(loadMigrations()[0]!.sql);
    expect(stmts.filter((s) => s.startsWith('CREATE TABLE'))).to.have.length(10);
    stmts.forEach((s) => expect(s).to.match(/^CREATE (TABLE|UNIQUE INDEX|INDEX) IF NOT EXISTS /));
  });
});
