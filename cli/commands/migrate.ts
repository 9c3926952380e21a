/**
 * `estafette migrate`: applies pending database migrations to DATABASE_URL (PostgreSQL or
 * CockroachDB). Safe to run while other instances migrate the same database.
 */
import { parseCliConfig } from '../../shared/config/config.ts';
import { createPool } from '../../shared/db/pool.ts';
import { migrate } from '../../shared/db/migrate.ts';
import { parseCommandArgs } from '../args.ts';

export const summary = 'apply pending database migrations to DATABASE_URL';
export const usage = 'estafette migrate';
export const details = `Applies the migrations not yet recorded to the database at DATABASE_URL (PostgreSQL or
CockroachDB), e.g. DATABASE_URL=postgresql://root@host:26257/estafette estafette migrate.
Safe while other instances migrate the same database.

exit codes: 0 up to date, 1 no DATABASE_URL or a failed migration, 2 wrong usage`;

/** Runs the migrations; 0 on success, 1 with one line on stderr otherwise. */
export async function run(args: string[]): Promise<number> {
  parseCommandArgs(args);
  const url = parseCliConfig().databaseUrl;
  if (!url) {
    process.stderr.write('estafette migrate: DATABASE_URL is not set (e.g. postgresql://user@host:5432/estafette)\n');
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
