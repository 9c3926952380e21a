/**
 * What build-dispatch needs from the outside world, as one object so the handler is tested with
 * real PostgreSQL and NATS but a recording job runner, and wired once in index.ts / local mode.
 */
import type pg from 'pg';
import type { EventName, EventPayloads } from '../../shared/events/types.ts';
import type { JobRunner } from '../../shared/jobs/runner.ts';
import type { ScmProvider } from '../../shared/scm/provider.ts';
import type { ForgeEndpoints } from '../../shared/scm/endpoints.ts';
import type { ExecutorName } from '../../shared/plan/builder-config.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { DispatchOutcomes } from '../../shared/bus/dispatch-outcomes.ts';
import type { Clock } from '../../shared/time/clock.ts';

export interface DispatchSettings {
  /** HS256 key for job tokens. */
  jwtKey: string;
  /** Base64 master key of the secrets; only build-dispatch opens them (absent: secrets stay encrypted). */
  secretKey?: string;
  /** Where builders send logs and status. */
  logIngestUrl: string;
  /** Public URL (ESTAFETTE_CI_SERVER_BASE_URL). */
  baseUrl: string;
  executor: ExecutorName;
  /** Trigger chains longer than this are refused. */
  maxChainDepth: number;
  /** ESTAFETTE_MAX_RUNNING_BUILDS: most builds running at once on the server (0 = no limit). */
  maxRunningBuilds?: number;
  /** An admitted job without a Job after this long gets its Job started again (default 60 000 ms). */
  admittedStartGraceMs?: number;
  /** Attempts at reading a manifest before the build fails (each failed one is shown in the build). */
  manifestAttempts: number;
  /** Context prefix of commit statuses (`<prefix>/<repo>`). */
  statusContext: string;
  /** How long a job token is valid: the job's deadline (default jobDeadlineSeconds() of the default Job spec). */
  jobTokenSeconds?: number;
}

export interface DispatchDeps {
  pool: pg.Pool;
  scm: ScmProvider;
  /** Forge API access per repository (commit statuses, clone credentials). */
  forges: ForgeEndpoints;
  runner: JobRunner;
  /** Publishes an event (its result is not needed here). */
  publish<N extends EventName>(name: N, data: EventPayloads[N], opts?: { id?: string }): Promise<unknown>;
  settings: DispatchSettings;
  /** Structured log lines (ids as fields). */
  log: Logger;
  /** Tells a waiting webhook what became of its push (absent: nobody listens). */
  outcomes?: Pick<DispatchOutcomes, 'publish'>;
  /** The clock of job tokens' issue and expiry, approval deadlines and lost-start checks (default the system clock; tests pin a fake one). */
  clock?: Clock;
}

/** A validated event as the handler receives it. */
export type DispatchEvent = { [N in EventName]: { name: N; id: string; data: EventPayloads[N] } }[EventName];
