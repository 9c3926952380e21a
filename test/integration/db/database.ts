/**
 * A migrated, isolated database for one db suite: requires PostgreSQL (skips or fails as
 * test/support/services.ts decides), creates a fresh database, runs the migrations and hands
 * back a pool plus a cleanup function.
 */
import type pg from 'pg';
import { createPool } from '../../../shared/db/pool.ts';
import { migrate } from '../../../shared/db/migrate.ts';
import { freshDatabase, requireService } from '../../support/services.ts';

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Call from a `before` hook: `db = await migratedDatabase(this)`. */
export async function migratedDatabase(ctx: Mocha.Context, kind: 'postgres' | 'cockroach' = 'postgres'): Promise<TestDatabase> {
  const server = await requireService(ctx, kind);
  const fresh = await freshDatabase(server, 'db');
  const pool = createPool(fresh.url, { max: 20 });
  await migrate(pool);
  return {
    url: fresh.url,
    pool,
    close: async () => {
      await pool.end();
      await fresh.drop();
    },
  };
}
