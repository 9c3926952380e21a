/**
 * Triggers and build origins in words, for lists and the triggers tab: what started a build
 * (`git push`, `manual by ada@example.com`, `cron 0 3 * * *`, `pipeline …`), a cron schedule
 * in plain English for the common shapes, and what a manifest trigger waits for and does.
 */
import type { Trigger } from './api/types.ts';

/** What started a build, short: for list rows and the build header. */
export function triggerText(t: Trigger | null | undefined): string {
  if (!t) return 'git push';
  const f = t.fields ?? {};
  const named = t.name ? ` '${t.name}'` : '';
  switch (t.event) {
    case 'git':
      return 'git push';
    case 'manual':
      return f.USER_ID ? `manual by ${f.USER_ID}` : 'manual';
    case 'cron':
      return `cron${named}${f.SCHEDULE ? ` (${f.SCHEDULE})` : ''}`;
    case 'pipeline':
      return `pipeline${named}: ${f.NAME ?? f.REPO_NAME ?? 'another pipeline'} ${f.EVENT ?? 'finished'}`;
    case 'release':
      return `release${named}: ${f.NAME ?? f.REPO_NAME ?? 'a pipeline'} to ${f.TARGET ?? 'a target'}`;
    case 'github':
    case 'bitbucket':
      return `${t.event}${named}: ${f.EVENT ?? 'event'}${f.ACTION ? ` (${f.ACTION})` : ''}`;
    default:
      return `${t.event}${named}`;
  }
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const two = (n: number) => String(n).padStart(2, '0');
const num = (v: string) => (/^\d+$/.test(v) ? Number(v) : undefined);

/** A 5-field cron schedule in words for the usual shapes (`every day at 03:00`), else undefined. */
export function cronInWords(schedule: string): string | undefined {
  const f = schedule.trim().split(/\s+/);
  if (f.length !== 5) return undefined;
  const [min, hour, dom, mon, dow] = f as [string, string, string, string, string];
  if (mon !== '*' || dom !== '*') return undefined;
  const every = /^\*\/(\d+)$/;
  let when: string | undefined;
  if (min === '*' && hour === '*') when = 'every minute';
  else if (every.test(min) && hour === '*') when = `every ${every.exec(min)![1]} minutes`;
  else if (num(min) !== undefined && hour === '*') when = `every hour at minute ${num(min)}`;
  else if (num(min) !== undefined && every.test(hour)) when = `every ${every.exec(hour)![1]} hours at minute ${num(min)}`;
  else if (num(min) !== undefined && /^\d+(,\d+)*$/.test(hour))
    when = `at ${hour
      .split(',')
      .map((h) => `${two(Number(h))}:${two(num(min)!)}`)
      .join(' and ')}`;
  if (!when) return undefined;
  if (dow === '*') return when.startsWith('at ') ? `every day ${when}` : when;
  if (dow === '1-5') return `on weekdays ${when}`;
  if (/^[0-7](,[0-7])*$/.test(dow))
    return `on ${dow
      .split(',')
      .map((d) => `${DAYS[Number(d) % 7]}s`)
      .join(' and ')} ${when}`;
  return undefined;
}

type Obj = Record<string, unknown>;
const s = (v: unknown): string => (typeof v === 'string' ? v : '');

/** What a manifest trigger waits for, as a sentence starting with "when" (`when pipeline x finishes with status succeeded on branch main`). */
export function triggerCondition(kind: string, filter: Obj): string {
  const branch = s(filter.branch) ? ` on branch ${s(filter.branch)}` : '';
  const status = s(filter.status) ? ` with status ${s(filter.status)}` : '';
  const event = s(filter.event) || 'finished';
  switch (kind) {
    case 'pipeline':
      return `when pipeline ${s(filter.name) || '(any)'} ${event === 'started' ? 'starts a build' : 'finishes a build'}${status}${branch}`;
    case 'release':
      return `when pipeline ${s(filter.name) || '(any)'} ${event === 'started' ? 'starts' : 'finishes'} a release${s(filter.target) ? ` to ${s(filter.target)}` : ''}${status}`;
    case 'git':
      return `when ${s(filter.repository) || 'a repository'} is pushed to${branch}`;
    case 'cron': {
      const words = cronInWords(s(filter.schedule));
      return `${words ?? 'on schedule'} (cron ${s(filter.schedule)})`;
    }
    case 'github':
    case 'bitbucket': {
      const events = Array.isArray(filter.events) ? filter.events.filter((e): e is string => typeof e === 'string') : [];
      const repo = s(filter.repository);
      return `on ${kind} ${events.join(', ') || 'events'}${repo && repo !== 'self' ? ` of ${repo}` : ''}`;
    }
    default:
      return `on ${kind} events (${JSON.stringify(filter)})`;
  }
}

/** What a manifest trigger does (`builds branch main`, `releases the latest version to production`). */
export function triggerAction(action: Obj, jobName: string | null): string {
  const [kind, raw] = Object.entries(action)[0] ?? ['', {}];
  const a = (raw && typeof raw === 'object' ? raw : {}) as Obj;
  if (kind === 'builds') return s(a.branch) ? `builds branch ${s(a.branch)}` : 'builds the default branch';
  if (kind === 'releases') {
    const version = s(a.version) || 'latest';
    const which = version === 'latest' ? 'the latest version' : version === 'same' ? 'the same version' : version === 'current' ? 'the version released now' : `version ${version}`;
    const target = s(a.target) || jobName || 'its target';
    return `releases ${which} to ${target}${s(a.action) ? ` (action ${s(a.action)})` : ''}`;
  }
  if (kind === 'runs') return `runs bot ${s(a.bot) || jobName || ''}`.trim();
  return JSON.stringify(action);
}
