/**
 * Triggers in a normalised form with Estafette's defaults applied, plus the matching rules that
 * decide whether an event fires one. Used by the dispatcher (pipeline/release/git triggers after a
 * build or push), cron-relay (cron schedules) and lint (which validates the same fields).
 *
 * Matching fields are regexes anchored as `^(…)$`; a leading `!~` negates; repository and pipeline
 * names compare case-insensitively; `self` stands for the manifest's own `source/owner/repo`.
 */
import { CronExpressionParser } from 'cron-parser';
import { compileUserRegex } from './regex.ts';
import { TRIGGER_ACTIONS, TRIGGER_FILTERS, type Manifest, type ManifestTrigger, type TriggerActionKind } from './types.ts';

/** The default `branch` of a git trigger with `event: tag`: any tag name. */
const ANY_TAG_PATTERN = '.+';

/** The default branch pattern of pipeline and git triggers and of `version.semver.releaseBranch`. */
export const DEFAULT_BRANCH_PATTERN = 'master|main';

/** Where a trigger list lives; decides the default (and the only allowed) action. */
export type TriggerScope = { kind: 'build' } | { kind: 'release'; release: string } | { kind: 'bot'; bot: string };

export type NormalizedFilter =
  | { kind: 'pipeline'; event: string; status: string; name: string; branch: string }
  | { kind: 'release'; event: string; status: string; name: string; target: string }
  | { kind: 'git'; event: string; repository: string; branch: string }
  | { kind: 'cron'; schedule: string }
  | { kind: 'pubsub'; project: string; topic: string }
  | { kind: 'github' | 'bitbucket'; events: string[]; repository: string }
  | { kind: 'docker'; event: string; image: string; tag: string };

export type NormalizedAction =
  /** branch '' = the branch of the pipeline's latest build on its default branch. */
  { kind: 'builds'; branch: string } | { kind: 'releases'; target: string; action: string; version: string } | { kind: 'runs'; bot: string; branch: string };

/** A trigger with exactly one filter and one action, defaults filled in. */
export interface NormalizedTrigger {
  name?: string;
  filter: NormalizedFilter;
  action: NormalizedAction;
}

/** The action kind a scope uses. */
export function actionKindFor(scope: TriggerScope): TriggerActionKind {
  return scope.kind === 'build' ? 'builds' : scope.kind === 'release' ? 'releases' : 'runs';
}

/** The filter keys present on a trigger, in canonical order. */
export function filtersOf(t: ManifestTrigger): string[] {
  return TRIGGER_FILTERS.filter((k) => t[k] !== undefined);
}

/** The action keys present on a trigger, in canonical order. */
export function actionsOf(t: ManifestTrigger): string[] {
  return TRIGGER_ACTIONS.filter((k) => t[k] !== undefined);
}

/**
 * Applies Estafette's defaults (estafette-ci-manifest `trigger.go` SetDefaults). Returns undefined
 * for a trigger lint rejects (no filter or several); an action of the wrong kind for the scope is
 * replaced by the scope's default action.
 */
export function normalizeTrigger(t: ManifestTrigger, scope: TriggerScope): NormalizedTrigger | undefined {
  const filters = filtersOf(t);
  if (filters.length !== 1) return undefined;
  let filter: NormalizedFilter;
  if (t.pipeline) {
    const p = t.pipeline;
    filter = { kind: 'pipeline', event: p.event || 'finished', status: p.status || 'succeeded', name: p.name ?? '', branch: p.branch || DEFAULT_BRANCH_PATTERN };
  } else if (t.release) {
    const r = t.release;
    filter = { kind: 'release', event: r.event || 'finished', status: r.status || 'succeeded', name: r.name ?? '', target: r.target ?? '' };
  } else if (t.git) {
    // A tag trigger's `branch` filters tag names, and takes every tag when absent.
    const event = t.git.event || 'push';
    filter = { kind: 'git', event, repository: t.git.repository ?? '', branch: t.git.branch || (event === 'tag' ? ANY_TAG_PATTERN : DEFAULT_BRANCH_PATTERN) };
  } else if (t.cron) {
    filter = { kind: 'cron', schedule: (t.cron.schedule ?? '').trim() };
  } else if (t.pubsub) {
    filter = { kind: 'pubsub', project: t.pubsub.project ?? '', topic: t.pubsub.topic ?? '' };
  } else if (t.github || t.bitbucket) {
    const kind = t.github ? 'github' : 'bitbucket';
    const f = (t.github ?? t.bitbucket)!;
    filter = { kind, events: f.events ?? [], repository: f.repository || 'self' };
  } else {
    const d = t.docker!;
    filter = { kind: 'docker', event: d.event ?? '', image: d.image ?? '', tag: d.tag ?? '' };
  }
  let action: NormalizedAction;
  if (scope.kind === 'release') {
    const r = t.releases ?? {};
    // Re-releasing the version that was just built or released makes sense only for the
    // pipeline itself; Estafette defaults to `same` for a pipeline or release filter on `self`.
    const self = (filter.kind === 'pipeline' || filter.kind === 'release') && filter.name.trim().toLowerCase() === 'self';
    // Estafette overwrites the target: a release trigger releases the release it is defined under.
    action = { kind: 'releases', target: scope.release, action: r.action ?? '', version: r.version || (self ? 'same' : 'latest') };
  } else if (scope.kind === 'bot') {
    action = { kind: 'runs', bot: t.runs?.bot || scope.bot, branch: t.runs?.branch ?? '' };
  } else {
    action = { kind: 'builds', branch: t.builds?.branch ?? '' };
  }
  const out: NormalizedTrigger = { filter, action };
  if (t.name !== undefined) out.name = t.name;
  return out;
}

/** Every trigger of a manifest with its scope and field path (`releases.beta.triggers[0]`), normalised. */
export function allTriggers(m: Manifest): Array<{ scope: TriggerScope; field: string; trigger: NormalizedTrigger }> {
  const out: Array<{ scope: TriggerScope; field: string; trigger: NormalizedTrigger }> = [];
  const add = (list: ManifestTrigger[] | undefined, scope: TriggerScope, base: string): void =>
    (list ?? []).forEach((t, i) => {
      const n = normalizeTrigger(t, scope);
      if (n) out.push({ scope, field: `${base}[${i}]`, trigger: n });
    });
  add(m.triggers, { kind: 'build' }, 'triggers');
  const templates = new Map(m.releaseTemplates.map((t) => [t.name, t]));
  for (const r of m.releases) {
    const triggers = r.triggers ?? (r.template ? templates.get(r.template)?.triggers : undefined);
    add(triggers, { kind: 'release', release: r.name }, r.triggers ? `releases.${r.name}.triggers` : `releaseTemplates.${r.template}.triggers`);
  }
  for (const b of m.bots) add(b.triggers, { kind: 'bot', bot: b.name }, `bots.${b.name}.triggers`);
  return out;
}

/** Compiles a matching pattern; throws a SyntaxError for an invalid regex. */
export function compilePattern(pattern: string, caseInsensitive = false): { regex: RegExp; negate: boolean } {
  const trimmed = pattern.trim();
  const negate = trimmed.startsWith('!~');
  const body = negate ? trimmed.slice(2).trim() : trimmed;
  return { regex: compileUserRegex(`^(?:${body})$`, caseInsensitive ? 'i' : ''), negate };
}

/**
 * True when value matches pattern (anchored regex, `!~` negates). An empty pattern matches
 * everything; an invalid regex matches nothing (lint reports it).
 */
export function matchPattern(pattern: string, value: string, caseInsensitive = false): boolean {
  if (pattern.trim() === '') return true;
  try {
    const { regex, negate } = compilePattern(pattern, caseInsensitive);
    return regex.test(value) !== negate;
  } catch {
    return false;
  }
}

/** Resolves `self` to the pipeline's own full name. */
function resolveName(pattern: string, selfFullName: string): string {
  return pattern.trim().toLowerCase() === 'self' ? escapeRegex(selfFullName) : pattern;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A build of some pipeline started or finished. */
export interface PipelineEvent {
  event: 'started' | 'finished';
  /** `source/owner/repo` of the pipeline that built. */
  pipeline: string;
  branch: string;
  /** Final status (for finished). */
  status?: string;
}

/** A release of some pipeline started or finished. */
export interface ReleaseEvent {
  event: 'started' | 'finished';
  pipeline: string;
  /** Release target name. */
  target: string;
  status?: string;
}

/** A push to a repository: of a branch (`push`), or of a tag (`tag`, whose name is in `branch`). */
export interface GitEvent {
  event: 'push' | 'tag';
  /** `source/owner/repo`. */
  repository: string;
  /** The branch pushed, or the tag's name. */
  branch: string;
}

/** Does a pipeline event fire this trigger of the pipeline named selfFullName? */
export function pipelineTriggerMatches(t: NormalizedTrigger, e: PipelineEvent, selfFullName: string): boolean {
  const f = t.filter;
  if (f.kind !== 'pipeline') return false;
  if (f.event !== e.event) return false;
  if (e.event === 'finished' && !matchPattern(f.status, e.status ?? '')) return false;
  return matchPattern(resolveName(f.name, selfFullName), e.pipeline, true) && matchPattern(f.branch, e.branch);
}

/** Does a release event fire this trigger of the pipeline named selfFullName? */
export function releaseTriggerMatches(t: NormalizedTrigger, e: ReleaseEvent, selfFullName: string): boolean {
  const f = t.filter;
  if (f.kind !== 'release') return false;
  if (f.event !== e.event) return false;
  if (e.event === 'finished' && !matchPattern(f.status, e.status ?? '')) return false;
  return matchPattern(resolveName(f.name, selfFullName), e.pipeline, true) && matchPattern(f.target, e.target);
}

/** Does a push fire this trigger of the pipeline named selfFullName? */
export function gitTriggerMatches(t: NormalizedTrigger, e: GitEvent, selfFullName: string): boolean {
  const f = t.filter;
  if (f.kind !== 'git') return false;
  if (f.event !== e.event) return false;
  return matchPattern(resolveName(f.repository, selfFullName), e.repository, true) && matchPattern(f.branch, e.branch);
}

/** A forge delivery as `github:` / `bitbucket:` triggers see it (shared/events ForgeEventData). */
export interface ForgeEvent {
  forge: 'github' | 'bitbucket';
  /** The forge's event name: `pull_request`, `issue_comment`, `pullrequest:created`, … */
  event: string;
  /** `source/owner/repo`. */
  repository: string;
}

/**
 * Does a forge delivery fire this trigger of the pipeline named selfFullName? The trigger's forge
 * must be the delivery's, its `events` must list the event name (exact, as Estafette compares
 * them) and its `repository` (default `self`) must match the delivery's repository.
 */
export function forgeTriggerMatches(t: NormalizedTrigger, e: ForgeEvent, selfFullName: string): boolean {
  const f = t.filter;
  if (f.kind !== e.forge) return false;
  if (!f.events.some((name) => name.trim() === e.event)) return false;
  return matchPattern(resolveName(f.repository, selfFullName), e.repository, true);
}

/**
 * The problem with a cron schedule, or undefined when it is a valid 5-field expression
 * (minute hour day-of-month month day-of-week, evaluated in UTC).
 */
export function checkCron(schedule: string): string | undefined {
  const fields = schedule.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return `cron schedule '${schedule}' must have 5 fields (minute hour day-of-month month day-of-week), found ${fields.length}`;
  try {
    CronExpressionParser.parse(`0 ${fields.join(' ')}`, { tz: 'UTC' });
    return undefined;
  } catch (err) {
    return `invalid cron schedule '${schedule}': ${(err as Error).message}`;
  }
}

/** True when a valid 5-field schedule fires in the UTC minute that contains `time`. */
export function cronDue(schedule: string, time: Date): boolean {
  if (checkCron(schedule) !== undefined) return false;
  const minute = Math.floor(time.getTime() / 60_000) * 60_000;
  const expr = CronExpressionParser.parse(`0 ${schedule.trim()}`, { tz: 'UTC', currentDate: new Date(minute - 1000) });
  return expr.next().getTime() === minute;
}

/** Every cron trigger of a manifest (build, release and bot scopes) with its schedule. */
export function cronSchedules(m: Manifest): Array<{ scope: TriggerScope; field: string; schedule: string; trigger: NormalizedTrigger }> {
  return allTriggers(m)
    .filter((x) => x.trigger.filter.kind === 'cron')
    .map((x) => ({ ...x, schedule: (x.trigger.filter as { schedule: string }).schedule }));
}
