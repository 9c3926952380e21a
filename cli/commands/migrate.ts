/**
 * `estafette migrate`: applies pending database migrations to DATABASE_URL (PostgreSQL or
 * CockroachDB). Safe to run while other instances migrate the same database.
 */
import { parseCliSettings } from '../../shared/config/config.ts';
import { createPool } from '../../shared/db/pool.ts';
import { migrate } from '../../shared/db/migrate.ts';

/** One line for `estafette help`, and the usage line. */
export const summary = 'apply pending database migrations to DATABASE_URL';
export const usage = 'DATABASE_URL=postgresql://… estafette migrate';

/** Runs the migrations; 0 on success, 1 with one line on stderr otherwise. */
export async function run(args: string[]): Promise<number> {
  if (args.length > 0) {
    process.stderr.write(`estafette migrate: takes no arguments\nusage: ${usage}\n`);
    return 2;
  }
  const url = parseCliSettings().databaseUrl;
  if (!url) {
    process.stderr.write(`estafette migrate: DATABASE_URL is not set\nusage: ${usage}\n`);
    return 1;
  }
  const pool = createPool(url, { max: 2 });
  try {
    const { applied } = await migrate(pool, { log: (line) => process.stdout.write(`${line}\n`) });
    process.stdout.write(applied.length ? `applied ${applied.length} migration(s)\n` : 'schema is up to date\n');
    return 0;
  } catch (err) {
    process.stderr.write(`estafette migrate: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await pool.end();
  }
}
