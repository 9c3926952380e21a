/**
 * What cron-relay needs from the outside world, as one object: tests run it on real PostgreSQL
 * with a recording `publish` and a KubernetesJobRunner against the fake API server; index.ts and
 * the local mode wire the real ones.
 */
import type pg from 'pg';
import type { EventName, EventPayloads } from '../../shared/events/types.ts';
import type { JobRunner } from '../../shared/jobs/runner.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { Clock } from '../../shared/time/clock.ts';

/** The runner whose jobs housekeeping checks (any JobRunner; `states` makes it one call). */
export type HousekeepingRunner = JobRunner;

/** Tunables of housekeeping (HOUSEKEEPING_DEFAULTS in housekeeping.ts). */
export interface HousekeepingSettings {
  /** A pending job younger than this is left alone: its Job may still be being created. */
  pendingGraceMs: number;
  /** A running/canceling job whose builder reported (or whose status changed) more recently than this is left alone. */
  activeGraceMs: number;
  /** A job still not final this long after it started has missed its deadline. */
  deadlineMs: number;
  /** Most jobs of each kind looked at per tick. */
  batch: number;
}

export interface CronRelayDeps {
  pool: pg.Pool;
  publish<N extends EventName>(name: N, data: EventPayloads[N], opts?: { id?: string }): Promise<unknown>;
  /**
   * The runner whose jobs housekeeping checks. Absent: no housekeeping (a separate process with
   * a local runner knows nothing of the builders another process started).
   */
  runner?: HousekeepingRunner;
  /** Structured log lines (ids as fields). */
  log: Logger;
  /** The clock (default the system's; tests pin it). */
  clock?: Clock;
  housekeeping?: Partial<HousekeepingSettings>;
}
