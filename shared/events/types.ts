/**
 * The CloudEvent types that flow over the bus, with their payloads and guards.
 * Every event is a CloudEvents 1.0 event whose `type` is one of EVENT_TYPES and whose
 * `data` is the payload named for it in EventPayloads. Ids (build, release, pipeline)
 * are decimal strings of INT8 values (JSON numbers cannot hold 64 bits).
 */
import type { JobStatus } from '../status/status.ts';

export const EVENT_PREFIX = 'ci.estafette.' as const;

/** Every event type, without the `ci.estafette.` prefix. */
export const EVENT_NAMES = [
  'git.push',
  'git.pull_request',
  'build.requested',
  'build.started',
  'build.finished',
  'build.cancel',
  'release.requested',
  'release.started',
  'release.finished',
  'release.cancel',
  'pipeline.renamed',
  'pipeline.archived',
  'cron.tick',
  'queue.advance',
  'forge.status',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];
export type EventType = `${typeof EVENT_PREFIX}${EventName}`;
const EVENT_TYPES = EVENT_NAMES.map((n) => `${EVENT_PREFIX}${n}` as EventType);
export const isEventType = (v: unknown): v is EventType => EVENT_TYPES.includes(v as EventType);
/** `eventType('git.push')` → `'ci.estafette.git.push'`. */
export const eventType = <N extends EventName>(name: N): `${typeof EVENT_PREFIX}${N}` => `${EVENT_PREFIX}${name}`;

/**
 * The forges a repository can live on: each has its own API (manifests, commit statuses).
 * Bitbucket Server / Data Center deliveries arrive at the `bitbucket` webhook; Forgejo's at `gitea`.
 */
export const FORGES = ['github', 'bitbucket', 'bitbucket-server', 'gitlab', 'gitea', 'generic'] as const;
export type Forge = (typeof FORGES)[number];

/** A repository as Estafette names it: source (host, e.g. github.com), owner, name. */
export interface RepoRef {
  repoSource: string;
  repoOwner: string;
  repoName: string;
}

export interface Commit {
  id: string;
  message: string;
  author: { name: string; email: string; username?: string };
}

/** Why a build or release started; becomes ESTAFETTE_TRIGGER_<EVENT>_<FIELD> variables. */
export interface TriggerInfo {
  /** git | pipeline | release | cron | manual | ... */
  event: string;
  /** The trigger's name in the manifest, when a named manifest trigger fired. */
  name?: string;
  /** Flat string fields of the firing event (e.g. BUILD_VERSION, REPO_NAME, BRANCH). */
  fields: Record<string, string>;
}

/** At most this many commits of a push travel in events and are stored with a build. */
export const MAX_PUSH_COMMITS = 20;

export interface GitPushData extends RepoRef {
  forge: Forge;
  cloneUrl: string;
  branch: string;
  /** Set when the push is a tag; then `branch` is empty. */
  tag?: string;
  revision: string;
  /** The newest MAX_PUSH_COMMITS commits of the push, oldest first. */
  commits: Commit[];
  /** How many commits the push carried (commits holds at most MAX_PUSH_COMMITS of them). */
  commitCount?: number;
  pusher: { name: string; email?: string };
  deliveryId: string;
  /** The branch head before the push (absent or all zeros for a new branch). */
  before?: string;
  /** Files the push changed, when the forge's payload lists them all (paths relative to the root). */
  changedFiles?: string[];
  /** GitHub App installation that sent the delivery (its token reads the repository). */
  installationId?: number;
}

/**
 * A pull (merge) request whose head is in a fork, to be built at its head revision. The
 * repository fields name the base repository (the pipeline); `cloneUrl` is where the head
 * revision can be fetched and `cloneRef` the ref to fetch it by (e.g. `pull/7/head`).
 */
export interface PullRequestData extends RepoRef {
  forge: Forge;
  number: number;
  /** opened, synchronize, reopened, … as the forge said it. */
  action: string;
  baseBranch: string;
  headBranch: string;
  /** `owner/name` of the repository the head lives in. */
  headRepository: string;
  /** True when the head lives in another repository than the base. */
  fork: boolean;
  revision: string;
  cloneUrl: string;
  cloneRef: string;
  title: string;
  author: { name: string };
  deliveryId: string;
  installationId?: number;
}

export interface BuildRequestedData extends RepoRef {
  branch: string;
  /** Revision to build; when absent, the branch head known from the last build. */
  revision?: string;
  /** Set for a rebuild of an existing version. */
  version?: string;
  /** The commits the build is of (a rebuild keeps those of the build it repeats). */
  commits?: Commit[];
  trigger: TriggerInfo;
  requestedBy?: string;
  /** How many trigger hops led here; dispatch refuses beyond a bound. */
  chainDepth: number;
  /** Id of a failed build to re-run from its first failed stage (the stages before it are reused). */
  rerunFailedOf?: string;
}

export interface BuildStartedData extends RepoRef {
  buildId: string;
  branch: string;
  revision: string;
  version: string;
  chainDepth: number;
}

export interface BuildFinishedData extends BuildStartedData {
  status: JobStatus;
}

export interface CancelData {
  /** Build id for build.cancel, release id for release.cancel. */
  id: string;
  requestedBy?: string;
}

export interface ReleaseRequestedData extends RepoRef {
  /** Release target name. */
  name: string;
  action?: string;
  version: string;
  trigger: TriggerInfo;
  requestedBy?: string;
  chainDepth: number;
  /** `refuse`: when the target is busy the release is not queued but canceled (query-api answers 409 first). */
  ifBusy?: 'queue' | 'refuse';
}

export interface ReleaseStartedData extends RepoRef {
  releaseId: string;
  name: string;
  action?: string;
  version: string;
  chainDepth: number;
}

export interface ReleaseFinishedData extends ReleaseStartedData {
  status: JobStatus;
}

export interface PipelineRenamedData extends RepoRef {
  newRepoOwner: string;
  newRepoName: string;
}

export interface PipelineArchivedData extends RepoRef {
  archived: boolean;
}

export interface CronTickData {
  /** ISO-8601 time of the tick. */
  time: string;
}

/** Asks build-dispatch to admit what can run now (cron-relay's tick, an approval); harmless when nothing can. */
export interface QueueAdvanceData {
  /** Why: `tick`, `approved`, … (for the log). */
  reason: string;
}

/**
 * A commit status to report to the forge: job `kind`/`id` reached `status`. Published by
 * build-dispatch with an id derived from (job, status), so each state is sent once however often
 * its cause is redelivered; the repository, branch and revision travel for log lines.
 */
export interface ForgeStatusData extends RepoRef {
  kind: 'build' | 'release';
  id: string;
  status: JobStatus;
  branch: string;
  revision: string;
}

/** Payload type for each event name. */
export interface EventPayloads {
  'git.push': GitPushData;
  'git.pull_request': PullRequestData;
  'build.requested': BuildRequestedData;
  'build.started': BuildStartedData;
  'build.finished': BuildFinishedData;
  'build.cancel': CancelData;
  'release.requested': ReleaseRequestedData;
  'release.started': ReleaseStartedData;
  'release.finished': ReleaseFinishedData;
  'release.cancel': CancelData;
  'pipeline.renamed': PipelineRenamedData;
  'pipeline.archived': PipelineArchivedData;
  'cron.tick': CronTickData;
  'queue.advance': QueueAdvanceData;
  'forge.status': ForgeStatusData;
}

/** An event to publish: its name and the payload of that name, kept together. */
export type OutgoingEvent = { [N in EventName]: { name: N; data: EventPayloads[N] } }[EventName];

/**
 * `[name, data]` of an event for a generic `publish(name, data, …)`: TypeScript does not correlate
 * the fields of a union by itself, and this keeps the call checked without a cast.
 */
export const eventArgs = <N extends EventName>(e: { name: N; data: EventPayloads[N] }): [N, EventPayloads[N]] => [e.name, e.data];
