/**
 * The JSON shapes of the REST API as documented in docs/API.md — the UI's only contract with the
 * server. Kept as plain types (no runtime validation): the API is ours and versioned with the UI.
 */
import type { ApprovalRule } from '../scheduling/types.ts';

/** Status of a build or release (shared/status/status.ts JOB_STATUSES). */
export type JobStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceling' | 'canceled' | 'queued' | 'awaiting-approval';
/** Status of a stage (shared/status/status.ts STAGE_STATUSES). */
export type StageStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'canceled';

/** Every status the UI may have to draw. */
export type AnyStatus = JobStatus | StageStatus;

/** A release target as declared in the manifest, with the latest release per action. */
export interface ReleaseTarget {
  name: string;
  actions?: Array<{ name: string }>;
  activeReleases?: Release[];
}

export interface Commit {
  id: string;
  message: string;
  author?: { name?: string; email?: string };
}

/** Why a build or release started (`manual` carries `fields.USER_ID`, who asked). */
export interface Trigger {
  event: string;
  name?: string | null;
  fields?: Record<string, string>;
}

export interface Build {
  id: string;
  repoSource: string;
  repoOwner: string;
  repoName: string;
  repoBranch: string;
  repoRevision: string;
  buildVersion: string;
  buildStatus: JobStatus;
  /** Why the system gave it this status (e.g. "superseded by build #7 (abc1234)"). */
  statusReason?: string;
  /** Place in the queue while `queued` (1 = next). */
  queuePosition?: number;
  buildNumber?: number;
  /** Estafette's `[{key, value}]`, sorted by key. */
  labels?: Label[];
  releaseTargets?: ReleaseTarget[];
  manifest?: string;
  commits?: Commit[];
  trigger?: Trigger | null;
  insertedAt: string;
  startedAt?: string | null;
  updatedAt?: string | null;
  /** Nanoseconds (Estafette's unit), 0 until the build finished; `fromNs` gives seconds. */
  duration?: number | null;
  /** Nanoseconds from insert to start. */
  pendingDuration?: number;
  /** For a build still to finish: nanoseconds its pipeline's recent succeeded builds took (median). */
  estimatedDuration?: number;
  /** Estafette's trigger events (`[{fired, git|pipeline|release|cron|manual: {…}}]`). */
  triggerEvents?: Array<Record<string, unknown>>;
}

/** A label as Estafette serves it. */
export interface Label {
  key: string;
  value: string;
}

export interface Release {
  id: string;
  name: string;
  action?: string | null;
  repoSource: string;
  repoOwner: string;
  repoName: string;
  releaseVersion: string;
  releaseStatus: JobStatus;
  statusReason?: string;
  queuePosition?: number;
  /** The approval the release needs (scheduling/types.ts ApprovalRule), or null. */
  approval?: ApprovalRule | null;
  approvalDeadline?: string | null;
  triggeredBy?: string | null;
  insertedAt: string;
  startedAt?: string | null;
  updatedAt?: string | null;
  /** Nanoseconds, absent until the release finished. */
  duration?: number | null;
}

/** A bot run (docs/API.md Bot). */
export interface Bot {
  id: string;
  name: string;
  repoSource: string;
  repoOwner: string;
  repoName: string;
  repoBranch: string;
  repoRevision: string;
  botStatus: JobStatus;
  statusReason?: string;
  triggeredBy?: string | null;
  trigger?: Trigger | null;
  insertedAt: string;
  startedAt?: string | null;
  updatedAt?: string | null;
  duration?: number | null;
}

export interface Pipeline {
  id: string;
  repoSource: string;
  repoOwner: string;
  repoName: string;
  labels?: Label[];
  archived?: boolean;
  releaseTargets?: ReleaseTarget[];
  triggers?: PipelineTrigger[];
  lastBuild?: Build | null;
  insertedAt?: string;
  updatedAt?: string;
}

/** A manifest trigger of a pipeline; cron triggers also say when they fire. */
export interface PipelineTrigger {
  kind: string;
  name: string | null;
  jobKind: 'build' | 'release' | 'bot';
  jobName: string | null;
  filter: Record<string, unknown>;
  action: Record<string, unknown>;
  timeZone?: string;
  nextFireAt?: string | null;
  lastFired?: {
    at: string;
    build?: { id: string; buildNumber: number; buildVersion: string; buildStatus: JobStatus };
    release?: { id: string; releaseVersion: string; releaseStatus: JobStatus };
  } | null;
}

export interface Stage {
  stage: string;
  parent: string | null;
  kind: 'stage' | 'parallel' | 'service' | 'builtin';
  run: number;
  status: StageStatus;
  startedAt?: string | null;
  finishedAt?: string | null;
  durationMs?: number | null;
  message?: string | null;
  /** Set when a re-run did not run this stage but kept the result of an earlier build. */
  reusedFrom?: { buildId: string; buildNumber: number };
}

/** What `…/loglines?q=` answers. */
export interface LogSearch {
  q: string;
  count: number;
  truncated: boolean;
  matches: Array<{ seq: number; stage: string; run: number }>;
}

export interface LogLine {
  seq: number;
  stage: string;
  run: number;
  time: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface Pagination {
  page: number;
  size: number;
  totalPages: number;
  totalItems: number;
}

/** The list envelope of every paged route. */
export interface List<T> {
  items: T[];
  pagination?: Pagination;
}

export type Role = 'viewer' | 'operator' | 'administrator';

/** `/api/me`: Estafette's User fields (`active`, `roles`, `email`, …) and ours beside them. */
export interface Me {
  active?: boolean;
  roles?: string[];
  email?: string;
  name?: string;
  authenticated: boolean;
  user?: { email?: string; name?: string } | null;
  role: Role;
  authEnabled: boolean;
}

export interface ValidationResult {
  status: 'succeeded' | 'failed';
  errors: Array<{ field: string; message: string }>;
  warnings?: Array<{ field?: string; message: string } | string>;
}

export interface DurationPoint {
  id: string;
  buildVersion: string;
  buildStatus: JobStatus;
  insertedAt: string;
  /** Nanoseconds (0 while unknown). */
  duration: number;
  pendingDuration?: number;
}

export interface SuccessRate {
  total: number;
  succeeded: number;
  failed: number;
  rate: number;
}

export interface ReleaseStat {
  name: string;
  action?: string | null;
  count: number;
  lastReleasedAt?: string | null;
  /** Nanoseconds from the build's insert to the release's finish (median). */
  medianLeadTime?: number | null;
}
