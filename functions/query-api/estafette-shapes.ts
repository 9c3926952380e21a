/**
 * The JSON of builds, releases and pipelines as Estafette's contract has them
 * (estafette-ci-contracts build.go, release.go, pipeline.go; estafette-ci-manifest event.go and
 * trigger.go), made from the query modules' objects at the edge of query-api. Durations are Go
 * `time.Duration`s — integer nanoseconds; `labels` is `[{key, value}]` sorted by key; the trigger
 * of a run is `triggerEvents: [{fired, git|pipeline|release|cron|manual: {…}}]`; a pipeline carries
 * its last build's fields flat (`repoBranch`, `buildVersion`, `buildStatus`, `commits`, …). Our
 * own fields stay beside Estafette's (`buildNumber`, `trigger`, `statusReason`, `lastBuild`, …),
 * and every duration among them is in nanoseconds too. The query modules keep seconds inside.
 */
import type { Build } from '../../shared/db/builds.ts';
import type { BuildSummary, Pipeline } from '../../shared/db/pipelines.ts';
import type { Release } from '../../shared/db/releases.ts';
import type { TriggerInfo } from '../../shared/events/types.ts';

/** Nanoseconds in a second: Estafette's durations are Go time.Duration values. */
export const NS_PER_SECOND = 1e9;

/** Seconds as an integer nanosecond duration; 0 when unknown (Go's zero Duration). */
export const ns = (seconds: number | null | undefined): number => (seconds === null || seconds === undefined ? 0 : Math.round(seconds * NS_PER_SECOND));

/** Estafette's `labels`: `[{key, value}]`, sorted by key as its API sorts them. */
export const labelList = (labels: Record<string, string>): Array<{ key: string; value: string }> =>
  Object.keys(labels)
    .sort()
    .map((key) => ({ key, value: labels[key]! }));

/** One of Estafette's trigger events (manifest EstafetteEvent). */
export type TriggerEvent = { fired: true; name?: string } & Record<string, unknown>;

/**
 * What started a run as Estafette's `triggerEvents`: a push is `git`, a build of another pipeline
 * `pipeline` (with its `repoBranch`), a release `release`, a cron tick `cron: {time}`, someone in the
 * UI or CLI `manual: {userID}`. Other events of ours (pull requests, bots) have no Estafette
 * counterpart and map to `git` with their own `event` name.
 */
export function triggerEvents(trigger: TriggerInfo | null | undefined): TriggerEvent[] {
  if (!trigger) return [];
  const f = trigger.fields ?? {};
  const named = trigger.name ? { name: trigger.name } : {};
  const drop = (o: Record<string, string | undefined>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));
  switch (trigger.event) {
    case 'pipeline':
      return [
        { ...named, fired: true, pipeline: drop({ buildVersion: f.BUILD_VERSION, repoSource: f.REPO_SOURCE, repoOwner: f.REPO_OWNER, repoName: f.REPO_NAME, repoBranch: f.BRANCH, status: f.STATUS, event: f.EVENT }) },
      ];
    case 'release':
      return [
        { ...named, fired: true, release: drop({ releaseVersion: f.RELEASE_VERSION, repoSource: f.REPO_SOURCE, repoOwner: f.REPO_OWNER, repoName: f.REPO_NAME, target: f.TARGET, status: f.STATUS, event: f.EVENT }) },
      ];
    case 'cron':
      return [{ ...named, fired: true, cron: drop({ time: f.TIME }) }];
    case 'manual':
      return [{ ...named, fired: true, manual: drop({ userID: f.USER_ID }) }];
    default:
      return [{ ...named, fired: true, git: drop({ event: trigger.event === 'git' ? f.EVENT : trigger.event, repository: f.REPOSITORY, branch: f.BRANCH }) }];
  }
}

/** Seconds from insert to start (Estafette's `pendingDuration`), when the run started. */
const pending = (insertedAt: string, startedAt: string | null | undefined): number | undefined => (startedAt ? Math.max(0, Date.parse(startedAt) - Date.parse(insertedAt)) / 1000 : undefined);

type BuildLike = Pick<Build, 'labels' | 'duration' | 'trigger' | 'insertedAt' | 'startedAt'> & { estimatedDuration?: number };

/** A build (or the build rows of lists) in Estafette's shape. */
export function buildJson<B extends BuildLike>(b: B) {
  const wait = pending(b.insertedAt, b.startedAt);
  return {
    ...b,
    labels: labelList(b.labels),
    triggerEvents: triggerEvents(b.trigger),
    duration: ns(b.duration),
    ...(wait === undefined ? {} : { pendingDuration: ns(wait) }),
    ...(b.estimatedDuration === undefined ? {} : { estimatedDuration: ns(b.estimatedDuration) }),
  };
}

type ReleaseLike = Pick<Release, 'duration' | 'trigger' | 'insertedAt' | 'startedAt'>;

/** A release in Estafette's shape (its `duration` and `pendingDuration` are omitted until known, as there). */
export function releaseJson<R extends ReleaseLike>(r: R) {
  const wait = pending(r.insertedAt, r.startedAt);
  const { duration, ...rest } = r;
  return {
    ...rest,
    triggerEvents: triggerEvents(r.trigger),
    ...(duration === null ? {} : { duration: ns(duration) }),
    ...(wait === undefined ? {} : { pendingDuration: ns(wait) }),
  };
}

/** The last build of a pipeline list answer (build-summaries.ts adds commits, trigger and times). */
export type LastBuild = BuildSummary & { commits: Build['commits']; trigger: TriggerInfo | null; startedAt?: string | null; updatedAt?: string; estimatedDuration?: number };

/**
 * A pipeline in Estafette's shape: its last build's fields flat on it (`repoBranch`,
 * `repoRevision`, `buildVersion`, `buildStatus`, `commits`, `triggerEvents`, `insertedAt`,
 * `startedAt`, `updatedAt`, `duration`, `pendingDuration`), `lastUpdatedAt` the last activity,
 * active releases in release shape, and our `lastBuild` (with its id and number) beside them.
 */
export function pipelineJson<P extends Pipeline & { lastBuild: LastBuild | null }>(pl: P) {
  const last = pl.lastBuild;
  const flat = last
    ? (() => {
        const b = buildJson({ labels: {}, ...last, startedAt: last.startedAt ?? null });
        return {
          repoBranch: last.repoBranch,
          repoRevision: last.repoRevision,
          buildVersion: last.buildVersion,
          buildStatus: last.buildStatus,
          commits: last.commits,
          triggerEvents: b.triggerEvents,
          insertedAt: last.insertedAt,
          ...(last.startedAt ? { startedAt: last.startedAt } : {}),
          updatedAt: last.updatedAt ?? last.insertedAt,
          duration: b.duration,
          ...(b.pendingDuration === undefined ? {} : { pendingDuration: b.pendingDuration }),
        };
      })()
    : { duration: 0 };
  const { labels: _labels, ...lastBuildRest } = last ? buildJson({ labels: {}, ...last, startedAt: last.startedAt ?? null }) : { labels: [] };
  return {
    ...pl,
    ...flat,
    labels: labelList(pl.labels),
    releaseTargets: pl.releaseTargets.map((t) => ({ ...t, ...(t.activeReleases ? { activeReleases: t.activeReleases.map(releaseJson) } : {}) })),
    lastUpdatedAt: pl.updatedAt,
    lastBuild: last ? lastBuildRest : null,
  };
}

/** A stored manifest trigger in Estafette's shape: `{name?, <kind>: {…filter}, builds|releases|runs: {…}}`, with our description beside it. */
export function triggerJson<T extends { kind: string; name: string | null; filter: Record<string, unknown>; action: Record<string, unknown> }>(t: T) {
  return { ...t.action, [t.kind]: t.filter, ...t };
}
