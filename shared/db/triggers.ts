/**
 * Queries of the `triggers` and `cron_firings` tables. Triggers are computed from a pipeline's
 * manifest and replaced whenever a new manifest is stored; the filter fields that lookups need
 * are columns (cron schedule; the pipeline name or repository listened to), the rest is JSONB.
 * A trigger keeps its id while its definition is unchanged, so a cron firing claimed for a
 * minute stays claimed across manifest updates.
 */
import { createHash } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import { newId } from './ids.ts';
import type { Db } from './pool.ts';
import type { JobKind } from './stages.ts';

/** Filter kinds a trigger can have (manifest `triggers[].<kind>`). */
const TRIGGER_KINDS = ['cron', 'pipeline', 'release', 'git', 'pubsub', 'github', 'bitbucket', 'docker'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** One normalised manifest trigger, as replaceTriggers stores it. */
export interface TriggerInput {
  /** Which job the trigger starts: the build, or a release target / bot named `jobName`. */
  jobKind: JobKind;
  jobName?: string;
  kind: TriggerKind;
  /** The trigger's `name` in the manifest, if any. */
  name?: string;
  /** The filter object (cron: `{schedule}`; pipeline/release: `{name, …}`; git: `{repository, …}`). */
  filter: Record<string, unknown>;
  /** The action object (`{builds: …}`, `{releases: …}` or `{runs: …}`). */
  action: Record<string, unknown>;
}

/** A stored trigger. */
export interface StoredTrigger extends TriggerInput {
  id: string;
  pipelineId: string;
  jobName: string;
  name: string;
  /** Cron schedule (kind cron). */
  schedule: string | null;
  /** Lower-cased pipeline name or repository listened to. */
  source: string | null;
  sourceIsPattern: boolean;
}

interface TriggerRow {
  id: string;
  pipeline_id: string;
  job_kind: JobKind;
  job_name: string;
  kind: TriggerKind;
  name: string;
  schedule: string | null;
  source: string | null;
  source_is_pattern: boolean;
  filter: Record<string, unknown>;
  action: Record<string, unknown>;
}

const COLUMNS = 'id, pipeline_id, job_kind, job_name, kind, name, schedule, source, source_is_pattern, filter, action';

const toTrigger = (r: TriggerRow): StoredTrigger => ({
  id: r.id,
  pipelineId: r.pipeline_id,
  jobKind: r.job_kind,
  jobName: r.job_name,
  kind: r.kind,
  name: r.name,
  schedule: r.schedule,
  source: r.source,
  sourceIsPattern: r.source_is_pattern,
  filter: r.filter,
  action: r.action,
});

// Keys sorted recursively so equal definitions hash equally whatever the key order.
const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : v !== null && typeof v === 'object'
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

/** The columns derived from a trigger's filter. */
function derive(t: TriggerInput): { schedule: string | null; source: string | null; sourceIsPattern: boolean } {
  const str = (k: string) => (typeof t.filter[k] === 'string' ? (t.filter[k] as string) : null);
  const source = t.kind === 'pipeline' || t.kind === 'release' ? str('name') : t.kind === 'git' || t.kind === 'github' || t.kind === 'bitbucket' ? str('repository') : null;
  return {
    schedule: t.kind === 'cron' ? str('schedule') : null,
    source: source?.toLowerCase() ?? null,
    // Names are matched as anchored regexes; anything beyond name characters makes it a pattern.
    sourceIsPattern: source !== null && !/^[A-Za-z0-9._\-/]+$/.test(source),
  };
}

/**
 * Makes the pipeline's stored triggers exactly `triggers`: unchanged ones keep their id, new ones
 * are inserted, the rest deleted. Run it in the transaction that stores the manifest.
 */
export async function replaceTriggers(db: Db, pipelineId: string, triggers: TriggerInput[]): Promise<StoredTrigger[]> {
  const keyed = triggers.map((t, position) => ({
    t,
    position,
    key: createHash('sha256')
      .update(canonical([t.jobKind, t.jobName ?? '', t.kind, t.name ?? '', t.filter, t.action]))
      .digest('hex')
      .slice(0, 32),
  }));
  // Identical duplicate triggers are one trigger.
  const unique = [...new Map(keyed.map((k) => [k.key, k])).values()];
  await db.query('DELETE FROM triggers WHERE pipeline_id = $1 AND NOT (key = ANY($2::TEXT[]))', [pipelineId, unique.map((k) => k.key)]);
  const stored: StoredTrigger[] = [];
  for (const { t, position, key } of unique) {
    const d = derive(t);
    const r = await db.query<TriggerRow>(
      `INSERT INTO triggers (id, pipeline_id, key, position, job_kind, job_name, kind, name, schedule, source, source_is_pattern, filter, action)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (pipeline_id, key) DO UPDATE SET position = excluded.position
       RETURNING ${COLUMNS}`,
      [newId(), pipelineId, key, position, t.jobKind, t.jobName ?? '', t.kind, t.name ?? '', d.schedule, d.source, d.sourceIsPattern, JSON.stringify(t.filter), JSON.stringify(t.action)],
    );
    stored.push(toTrigger(r.rows[0]!));
  }
  return stored;
}

/** The stored triggers of a pipeline in manifest order. */
export async function listTriggers(db: Db, pipelineId: string): Promise<StoredTrigger[]> {
  const r = await db.query<TriggerRow>(`SELECT ${COLUMNS} FROM triggers WHERE pipeline_id = $1 ORDER BY position`, [pipelineId]);
  return r.rows.map(toTrigger);
}

/** The minute `at` falls in (seconds and milliseconds dropped). */
export const minuteOf = (at: Date): Date => new Date(Math.floor(at.getTime() / 60_000) * 60_000);

/**
 * Cron triggers of non-archived pipelines whose schedule (5 fields, UTC) matches the minute of
 * `at`. Schedules that do not parse are skipped (the manifest linter reports them).
 */
export async function dueCronTriggers(db: Db, at: Date): Promise<StoredTrigger[]> {
  const minute = minuteOf(at);
  const r = await db.query<TriggerRow>(
    `SELECT ${COLUMNS.split(', ')
      .map((c) => `t.${c}`)
      .join(', ')} FROM triggers AS t JOIN pipelines AS p ON p.id = t.pipeline_id
     WHERE t.kind = 'cron' AND NOT p.archived ORDER BY t.pipeline_id, t.position`,
  );
  return r.rows.map(toTrigger).filter((t) => {
    try {
      return t.schedule !== null && CronExpressionParser.parse(t.schedule, { tz: 'UTC' }).includesDate(minute);
    } catch {
      return false;
    }
  });
}

/** Claims the firing of a cron trigger for the minute of `at`: true for exactly one caller. */
export async function claimCronFiring(db: Db, triggerId: string, at: Date): Promise<boolean> {
  const r = await db.query('INSERT INTO cron_firings (trigger_id, minute) VALUES ($1, $2) ON CONFLICT (trigger_id, minute) DO NOTHING', [triggerId, minuteOf(at)]);
  return r.rowCount === 1;
}

/**
 * Triggers of `kind` (pipeline, release, git, github or bitbucket) that may listen to `name` (`source/owner/repo`,
 * any case): those naming it exactly plus every pattern trigger. The caller applies the full filter.
 */
export async function triggersListeningTo(db: Db, kind: 'pipeline' | 'release' | 'git' | 'github' | 'bitbucket', name: string): Promise<StoredTrigger[]> {
  const r = await db.query<TriggerRow>(
    `SELECT ${COLUMNS.split(', ')
      .map((c) => `t.${c}`)
      .join(', ')} FROM triggers AS t JOIN pipelines AS p ON p.id = t.pipeline_id
     WHERE t.kind = $1 AND (t.source = $2 OR t.source_is_pattern) AND NOT p.archived ORDER BY t.pipeline_id, t.position`,
    [kind, name.toLowerCase()],
  );
  return r.rows.map(toTrigger);
}

/** The latest minute each of the given cron triggers fired for (as long as cron_firings keeps it). */
export async function lastCronFirings(db: Db, triggerIds: string[]): Promise<Map<string, Date>> {
  if (triggerIds.length === 0) return new Map();
  const r = await db.query<{ trigger_id: string; minute: Date }>('SELECT trigger_id, max(minute) AS minute FROM cron_firings WHERE trigger_id = ANY($1::INT8[]) GROUP BY trigger_id', [triggerIds]);
  return new Map(r.rows.map((f) => [String(f.trigger_id), f.minute]));
}

/** The next minute (UTC) after `after` that cron `schedule` fires, or null when it does not parse. */
export function nextCronFiring(schedule: string, after: Date): Date | null {
  try {
    return CronExpressionParser.parse(schedule, { tz: 'UTC', currentDate: after }).next().toDate();
  } catch {
    return null;
  }
}

/** Forgets cron firings before `before`; returns how many. */
export async function pruneCronFirings(db: Db, before: Date): Promise<number> {
  const r = await db.query('DELETE FROM cron_firings WHERE minute < $1', [before]);
  return r.rowCount ?? 0;
}
