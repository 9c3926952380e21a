/**
 * The migration runner: applies the numbered `migrations/NNNN_name.sql` files not applied yet,
 * in order, each exactly once, and records them in `schema_migrations` (version, name, sha256).
 *
 * Several function instances may start at once and all call migrate(). Without advisory locks
 * (CockroachDB has none) they coordinate through a lease row in `schema_migrations_lock`:
 * whoever claims it (INSERT … ON CONFLICT … DO UPDATE … WHERE expired) applies the pending files;
 * the others poll until the lease is free and then find nothing left to do. A runner that dies
 * leaves a lease that expires, so another one takes over. Files must be idempotent (IF NOT
 * EXISTS …): their statements run one by one, so a failed run may leave part of a file applied.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';
import { sqlState } from './pool.ts';
import { isBundled, packagePath } from '../runtime/package-path.ts';

/** One migration file. */
export interface Migration {
  version: string;
  name: string;
  sql: string;
  checksum: string;
}

/** Options of migrate(); defaults fit production. */
export interface MigrateOptions {
  /** Folder holding NNNN_name.sql files (default: shared/db/migrations). */
  dir?: string;
  /** Lease length in ms; renewed before each file (default 60 s). */
  leaseMs?: number;
  /** Poll interval while another runner holds the lease, in ms (default 250). */
  pollMs?: number;
  /** Give up waiting for another runner after this many ms (default 10 min). */
  waitMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

const DEFAULTS = {
  // The bundler copies the .sql files to dist/migrations beside the bundles.
  dir: packagePath(isBundled ? 'dist/migrations/' : 'shared/db/migrations/'),
  leaseMs: 60_000,
  pollMs: 250,
  waitMs: 600_000,
  log: (_line: string) => {},
};

/** The migration files in `dir`, sorted by version. */
export function loadMigrations(dir = DEFAULTS.dir): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => {
      const sql = readFileSync(`${dir}/${f}`, 'utf8');
      return { version: f.slice(0, 4), name: f.slice(5, -4), sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

const BOOTSTRAP = [
  `CREATE TABLE IF NOT EXISTS schema_migrations (
     version TEXT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
     applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
  `CREATE TABLE IF NOT EXISTS schema_migrations_lock (
     id INT8 PRIMARY KEY, holder TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL)`,
];

// Concurrent CREATE TABLE IF NOT EXISTS can still collide in PostgreSQL's catalog (unique
// violation on pg_type, or "relation/type already exists"); the loser simply runs it again.
async function bootstrap(pool: pg.Pool): Promise<void> {
  for (const stmt of BOOTSTRAP) {
    for (let attempt = 1; ; attempt++) {
      try {
        await pool.query(stmt);
        break;
      } catch (err) {
        const code = sqlState(err);
        if (attempt >= 5 || !(code === '23505' || code === '42P07' || code === '42710' || code === '40001')) throw err;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }
}

async function claimLease(pool: pg.Pool, holder: string, leaseMs: number): Promise<boolean> {
  const r = await pool.query(
    `INSERT INTO schema_migrations_lock (id, holder, expires_at) VALUES (1, $1, now() + ($2::TEXT || ' milliseconds')::INTERVAL)
     ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE schema_migrations_lock.expires_at < now() OR schema_migrations_lock.holder = excluded.holder
     RETURNING holder`,
    [holder, String(leaseMs)],
  );
  return r.rowCount === 1;
}

async function appliedVersions(pool: pg.Pool): Promise<Map<string, string>> {
  const r = await pool.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations');
  return new Map(r.rows.map((row) => [row.version, row.checksum]));
}

/** Result of migrate(): the versions this call applied (empty when the schema was current). */
export interface MigrateResult {
  applied: string[];
}

/**
 * Applies pending migrations exactly once, safe to call from many processes at the same time.
 * Throws when an applied file was changed afterwards (its checksum differs): migrations are
 * append-only, fix forward with a new file.
 */
export async function migrate(pool: pg.Pool, options: MigrateOptions = {}): Promise<MigrateResult> {
  const o = { ...DEFAULTS, ...options };
  const migrations = loadMigrations(o.dir);
  await bootstrap(pool);
  const check = (done: Map<string, string>): Migration[] => {
    for (const m of migrations) {
      const sum = done.get(m.version);
      if (sum !== undefined && sum !== m.checksum) throw new Error(`migration ${m.version}_${m.name} was changed after it was applied`);
    }
    return migrations.filter((m) => !done.has(m.version));
  };
  if (check(await appliedVersions(pool)).length === 0) return { applied: [] };

  const holder = randomUUID();
  const deadline = Date.now() + o.waitMs;
  while (!(await claimLease(pool, holder, o.leaseMs))) {
    if (Date.now() > deadline) throw new Error('timed out waiting for another migration runner');
    await new Promise((r) => setTimeout(r, o.pollMs));
  }
  const applied: string[] = [];
  try {
    // Re-read under the lease: another runner may have finished while we waited.
    for (const m of check(await appliedVersions(pool))) {
      if (!(await claimLease(pool, holder, o.leaseMs))) throw new Error('lost the migration lease (a migration ran longer than the lease)');
      o.log(`applying ${m.version}_${m.name}`);
      // One statement at a time, each in its own implicit transaction: CockroachDB does not run
      // several DDL statements atomically in one transaction (and may fail such a transaction),
      // so no database gets one. A file that fails half-way is completed by the next run, because
      // migration files are idempotent (IF NOT EXISTS); only then is the version recorded.
      for (const [i, stmt] of splitStatements(m.sql).entries()) {
        try {
          await pool.query(stmt);
        } catch (err) {
          throw new Error(`migration ${m.version}_${m.name} failed at statement ${i + 1}: ${(err as Error).message}`, { cause: err });
        }
      }
      await pool.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
      applied.push(m.version);
    }
  } finally {
    await pool.query('DELETE FROM schema_migrations_lock WHERE id = 1 AND holder = $1', [holder]).catch(() => {});
  }
  return { applied };
}

/**
 * The statements of a SQL file: split at `;` outside quotes and comments; comment-only pieces
 * dropped. (Migrations have no function bodies, so dollar quoting is not handled.)
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let meaningful = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end - 1;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end;
      current += sql.slice(i, stop + 1);
      meaningful = true;
      i = stop;
      continue;
    }
    if (c === ';') {
      if (meaningful) out.push(current.trim());
      current = '';
      meaningful = false;
      continue;
    }
    current += c;
    if (!/\s/.test(c)) meaningful = true;
  }
  if (meaningful) out.push(current.trim());
  return out;
}
