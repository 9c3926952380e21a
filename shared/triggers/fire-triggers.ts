/**
 * Pipeline, release and git triggers (issue 7) and the trigger actions, shared by build-dispatch
 * (events firing triggers) and cron-relay (cron minutes firing them).
 * An event (a build started/finished, a release finished, a push) is matched against the stored
 * triggers that listen to its pipeline or repository — rebuilt into NormalizedTriggers and
 * matched with shared/manifest/triggers.ts (anchored regexes, `!~`, case-insensitive names,
 * `self`) — and each match publishes what its action asks for: `builds` → build.requested,
 * `releases` → release.requested, `runs` → bot.requested. A forge delivery (forge.event) fires the
 * `github:` / `bitbucket:` triggers that list its event name. Requests get an id derived from
 * (firing event, trigger), so a redelivered event never requests twice (dispatch is idempotent
 * per event id), and chainDepth + 1, so a trigger loop ends where dispatch refuses to go deeper.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { EventName, EventPayloads } from '../events/types.ts';
import type { Logger } from '../log/logger.ts';
import type { BuildFinishedData, BuildStartedData, ForgeEventData, GitPushData, ReleaseFinishedData, TriggerInfo } from '../events/types.ts';
import {
  DEFAULT_BRANCH_PATTERN,
  forgeTriggerMatches,
  gitTriggerMatches,
  matchPattern,
  pipelineTriggerMatches,
  releaseTriggerMatches,
  type NormalizedAction,
  type NormalizedFilter,
  type NormalizedTrigger,
} from '../manifest/triggers.ts';
import { listTriggers, triggersListeningTo, type StoredTrigger } from '../db/triggers.ts';
import { getPipeline, getPipelineById, type Pipeline } from '../db/pipelines.ts';
import { listBuilds } from '../db/builds.ts';
import { listReleases } from '../db/releases.ts';
import { forgeFields, gitFields, pipelineFields, releaseFields } from './trigger-fields.ts';
import { isForkPullRequest } from './pull-request-trigger.ts';

/** What firing a trigger needs: the database to resolve branches/versions, and the bus. */
export interface TriggerDeps {
  pool: pg.Pool;
  /** Publishes a request (its result is not needed here). */
  publish<N extends EventName>(name: N, data: EventPayloads[N], opts?: { id?: string }): Promise<unknown>;
  log: Logger;
}

/** One event firing one trigger. */
export interface Firing {
  /** Identifies the firing event (an event id, or a cron minute); with the trigger id it makes the request's id. */
  sourceId: string;
  /** Why: event and fields (the trigger's name is added from the trigger). */
  trigger: Omit<TriggerInfo, 'name'>;
  /** Depth of the firing event; the request gets one more. */
  chainDepth: number;
  /** The version of the build or release that fired (`version: same`). */
  version?: string;
}

type Repo = { repoSource: string; repoOwner: string; repoName: string };
const full = (r: Repo): string => `${r.repoSource}/${r.repoOwner}/${r.repoName}`;

/**
 * A deterministic event id (UUID-shaped, from SHA-256) for `parts`: the same firing always
 * publishes the same id, which the bus and dispatch use to drop repeats.
 */
export function derivedEventId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  // Name-based UUID layout (version 5 nibble, RFC 4122 variant) so it reads as an ordinary id.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * A stored trigger row as the NormalizedTrigger it was made from (dispatch stores the filter
 * without its kind and the action as `{<kind>: rest}`); undefined for a row of another shape.
 */
export function normalizedOf(t: StoredTrigger): NormalizedTrigger | undefined {
  const f = t.filter;
  let filter: NormalizedFilter;
  switch (t.kind) {
    case 'pipeline':
      filter = { kind: 'pipeline', event: str(f.event), status: str(f.status), name: str(f.name), branch: str(f.branch) };
      break;
    case 'release':
      filter = { kind: 'release', event: str(f.event), status: str(f.status), name: str(f.name), target: str(f.target) };
      break;
    case 'git':
      filter = { kind: 'git', event: str(f.event), repository: str(f.repository), branch: str(f.branch) };
      break;
    case 'cron':
      filter = { kind: 'cron', schedule: str(f.schedule) };
      break;
    case 'github':
    case 'bitbucket':
      filter = { kind: t.kind, events: Array.isArray(f.events) ? f.events.filter((e): e is string => typeof e === 'string') : [], repository: str(f.repository) || 'self' };
      break;
    default:
      return undefined; // pubsub, docker: no events of those kinds arrive here
  }
  const [kind, raw] = Object.entries(t.action)[0] ?? [];
  const a = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  let action: NormalizedAction;
  if (kind === 'builds') action = { kind: 'builds', branch: str(a.branch) };
  else if (kind === 'releases') action = { kind: 'releases', target: str(a.target) || t.jobName, action: str(a.action), version: str(a.version) || 'latest' };
  else if (kind === 'runs') action = { kind: 'runs', bot: str(a.bot) || t.jobName, branch: str(a.branch) };
  else return undefined;
  return { ...(t.name ? { name: t.name } : {}), filter, action };
}

/** The branch of the pipeline's newest build on master|main — else of its newest build — among its latest 50. */
async function defaultBranch(deps: TriggerDeps, pipelineId: string): Promise<string | undefined> {
  const recent = (await listBuilds(deps.pool, { pipelineId, size: 50 })).items;
  return (recent.find((b) => matchPattern(DEFAULT_BRANCH_PATTERN, b.repoBranch)) ?? recent[0])?.repoBranch;
}

/** The version a `releases` action asks for, or a reason it has none. */
async function releaseVersion(deps: TriggerDeps, owner: Pipeline, action: { target: string; version: string }, firing: Firing): Promise<{ version: string } | { reason: string }> {
  const latest = async () => {
    // A fork's pull request build is never what `latest` releases.
    const b = (await listBuilds(deps.pool, { pipelineId: owner.id, statuses: ['succeeded'], size: 20 })).items.find((x) => !isForkPullRequest(x.trigger));
    return b ? { version: b.buildVersion } : { reason: 'the pipeline has no succeeded build (version latest)' };
  };
  switch (action.version) {
    case 'latest':
      return latest();
    case 'same':
      // Cron and git firings carry no version of their own: the newest build is the sensible "same".
      return firing.version ? { version: firing.version } : latest();
    case 'current': {
      const r = (await listReleases(deps.pool, { pipelineId: owner.id, target: action.target, statuses: ['succeeded'], size: 1 })).items[0];
      return r ? { version: r.releaseVersion } : { reason: `nothing is released on ${action.target} yet (version current)` };
    }
    default:
      return { version: action.version };
  }
}

/**
 * Publishes what trigger `t` (owned by pipeline `owner`) asks for in response to `firing`.
 * Returns false when the action could not be resolved (the reason is logged).
 */
export async function fireTrigger(deps: TriggerDeps, owner: Pipeline, t: StoredTrigger, n: NormalizedTrigger, firing: Firing): Promise<boolean> {
  const id = derivedEventId(firing.sourceId, t.id);
  const trigger: TriggerInfo = { ...firing.trigger, ...(n.name ? { name: n.name } : {}) };
  const chainDepth = firing.chainDepth + 1;
  const repo = { repoSource: owner.repoSource, repoOwner: owner.repoOwner, repoName: owner.repoName };
  const label = `${firing.trigger.event} trigger${n.name ? ` '${n.name}'` : ''} of ${full(owner)}`;
  const a = n.action;
  if (a.kind === 'builds') {
    const branch = a.branch || (await defaultBranch(deps, owner.id));
    if (!branch) {
      deps.log.info(`${label} not fired: the pipeline has no build to take a branch from`);
      return false;
    }
    await deps.publish('build.requested', { ...repo, branch, trigger, chainDepth }, { id });
    deps.log.info(`${label} fired: build of ${branch} requested (chain depth ${chainDepth})`);
    return true;
  }
  if (a.kind === 'releases') {
    const v = await releaseVersion(deps, owner, a, firing);
    if ('reason' in v) {
      deps.log.info(`${label} not fired: ${v.reason}`);
      return false;
    }
    await deps.publish('release.requested', { ...repo, name: a.target, ...(a.action ? { action: a.action } : {}), version: v.version, trigger, chainDepth }, { id });
    deps.log.info(`${label} fired: release of ${v.version} to ${a.target}${a.action ? `/${a.action}` : ''} requested (chain depth ${chainDepth})`);
    return true;
  }
  // The bot's branch ('' = the default branch) is resolved by dispatch, where its manifest is read.
  await deps.publish('bot.requested', { ...repo, name: a.bot, branch: a.branch, trigger, chainDepth }, { id });
  deps.log.info(`${label} fired: bot ${a.bot} requested (chain depth ${chainDepth})`);
  return true;
}

/** Fires each candidate trigger whose owner is active and for which `matches` holds. */
async function fireMatching(deps: TriggerDeps, candidates: StoredTrigger[], matches: (n: NormalizedTrigger, ownerName: string) => boolean, firing: Firing): Promise<void> {
  const owners = new Map<string, Pipeline | null>();
  const seen = new Set<string>();
  for (const t of candidates) {
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    if (!owners.has(t.pipelineId)) owners.set(t.pipelineId, await getPipelineById(deps.pool, t.pipelineId));
    const owner = owners.get(t.pipelineId);
    if (!owner || owner.archived) continue;
    const n = normalizedOf(t);
    if (!n || !matches(n, full(owner))) continue;
    await fireTrigger(deps, owner, t, n, firing);
  }
}

/**
 * Triggers of `kind` that may listen to pipeline/repository `ref`: those naming it (or a
 * pattern) plus the pipeline's own `self` triggers, which the name index cannot find.
 */
async function candidates(deps: TriggerDeps, kind: 'pipeline' | 'release' | 'git' | 'github' | 'bitbucket', ref: Repo): Promise<StoredTrigger[]> {
  const named = await triggersListeningTo(deps.pool, kind, full(ref));
  const own = await getPipeline(deps.pool, ref);
  const self = own ? (await listTriggers(deps.pool, own.id)).filter((t) => t.kind === kind && t.source === 'self') : [];
  return [...named, ...self];
}

/** Evaluates pipeline triggers for a build that started or finished (build.started / build.finished). */
export async function firePipelineTriggers(deps: TriggerDeps, eventId: string, event: 'started' | 'finished', data: BuildStartedData | BuildFinishedData): Promise<void> {
  const status = event === 'finished' && 'status' in data ? data.status : 'running';
  const e = { event, pipeline: full(data), branch: data.branch, status };
  const fields = pipelineFields({ ...data, repoBranch: data.branch, repoRevision: data.revision, buildVersion: data.version, buildStatus: status, id: data.buildId }, event);
  await fireMatching(deps, await candidates(deps, 'pipeline', data), (n, ownerName) => pipelineTriggerMatches(n, e, ownerName), {
    sourceId: eventId,
    trigger: { event: 'pipeline', fields },
    chainDepth: data.chainDepth,
    version: data.version,
  });
}

/** Evaluates release triggers for a finished release (release.finished). */
export async function fireReleaseTriggers(deps: TriggerDeps, eventId: string, data: ReleaseFinishedData): Promise<void> {
  const e = { event: 'finished' as const, pipeline: full(data), target: data.name, status: data.status };
  const fields = releaseFields({ ...data, action: data.action ?? '', releaseVersion: data.version, releaseStatus: data.status, id: data.releaseId }, 'finished');
  await fireMatching(deps, await candidates(deps, 'release', data), (n, ownerName) => releaseTriggerMatches(n, e, ownerName), {
    sourceId: eventId,
    trigger: { event: 'release', fields },
    chainDepth: data.chainDepth,
    version: data.version,
  });
}

/**
 * Evaluates git triggers for a push (git.push). A pushed pipeline's own `builds` triggers are
 * skipped: the push itself already builds it.
 */
export async function fireGitTriggers(deps: TriggerDeps, eventId: string, data: GitPushData): Promise<void> {
  const e = data.tag && !data.branch ? { event: 'tag' as const, repository: full(data), branch: data.tag } : { event: 'push' as const, repository: full(data), branch: data.branch };
  const pushed = full(data).toLowerCase();
  await fireMatching(deps, await candidates(deps, 'git', data), (n, ownerName) => !(n.action.kind === 'builds' && ownerName.toLowerCase() === pushed) && gitTriggerMatches(n, e, ownerName), {
    sourceId: eventId,
    trigger: { event: 'git', fields: gitFields(data) },
    chainDepth: 0,
  });
}

/**
 * Evaluates `github:` / `bitbucket:` triggers for a forge delivery (forge.event): those whose
 * repository is the delivery's and whose `events` list its event name fire, with the event's
 * fields (ESTAFETTE_TRIGGER_GITHUB_EVENT, _REPOSITORY, _DELIVERY, _PAYLOAD, …).
 */
export async function fireForgeTriggers(deps: TriggerDeps, eventId: string, data: ForgeEventData): Promise<void> {
  const e = { forge: data.forge, event: data.event, repository: full(data) };
  await fireMatching(deps, await candidates(deps, data.forge, data), (n, ownerName) => forgeTriggerMatches(n, e, ownerName), {
    sourceId: eventId,
    trigger: { event: data.forge, fields: forgeFields(data) },
    chainDepth: 0,
  });
}
