/**
 * What every benchmark needs from the machine: the PostgreSQL and NATS it talks to (DATABASE_URL
 * and NATS_URL, defaulting to the local services), an isolated database per run (freshDatabase,
 * migrated), a unique JetStream stream per run, and child processes of the system started the
 * way production starts them (`node dist/functions/<function>.mjs`; bench/run.ts builds dist/ first).
 */
import { connect } from 'nats';
import { createPool } from '../shared/db/pool.ts';
import { migrate } from '../shared/db/migrate.ts';
import { freshDatabase, uniqueName } from '../test/support/services.ts';

export { spawnFunction, spawnNode, spawnProcess, waitFor, waitForHttp, type Proc } from '../test/support/processes.ts';
export { freePort } from '../cli/start/database.ts';

/** PostgreSQL server the benchmarks create their databases on. */
export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** NATS server with JetStream. */
export const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A fresh, migrated database; `drop` removes it. */
export async function benchDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const db = await freshDatabase(postgresUrl, prefix);
  const pool = createPool(db.url);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  return db;
}

/** A JetStream stream/subject namespace of its own; `drop` deletes its streams. */
export function benchStream(prefix: string): { stream: string; subjectPrefix: string; env: Record<string, string>; drop: () => Promise<void> } {
  const stream = uniqueName(prefix);
  const subjectPrefix = `${stream.toLowerCase()}.`;
  return {
    stream,
    subjectPrefix,
    env: { NATS_URL: natsUrl, ESTAFETTE_BUS_STREAM: stream, ESTAFETTE_BUS_SUBJECT_PREFIX: subjectPrefix },
    drop: async () => {
      const nc = await connect({ servers: natsUrl });
      try {
        const jsm = await nc.jetstreamManager();
        for (const s of [stream, `${stream}_DLQ`]) await jsm.streams.delete(s).catch(() => false);
      } finally {
        await nc.close();
      }
    },
  };
}

/** Runs `fn` with cleanups registered through `defer`, always running them (last first). */
export async function withCleanup<T>(fn: (defer: (cleanup: () => unknown) => void) => Promise<T>): Promise<T> {
  const cleanups: Array<() => unknown> = [];
  try {
    return await fn((c) => cleanups.push(c));
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        console.error(`cleanup: ${(err as Error).message}`);
      }
    }
  }
}

/** Median of a list (NaN when empty). */
export function median(values: number[]): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
