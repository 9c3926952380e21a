/**
 * The scheduling keys of a manifest — this system's additions to Estafette's format, which
 * Estafette ignores: top-level `concurrency` (supersede, build limit), `paths` / `ignorePaths`
 * (which pushes build at all), and per release target `concurrency` (releases at once) and
 * `approval` (who must approve). Here: reading them (called by parse.ts), their lint rules
 * (called by lint.ts), and the resolved rules with their defaults that build-dispatch applies —
 * one place for what `cancelSuperseded` defaults to or when a path filter skips a push.
 */
import { ROLES } from '../auth/roles.ts';
import { parseDurationSeconds } from './duration.ts';
import { anyMatches, checkGlob, globMatcher } from './globs.ts';
import { matchPattern } from './triggers.ts';
import type { Manifest, ManifestApproval, ManifestConcurrency, ManifestRelease, Problem } from './types.ts';

type Obj = Record<string, unknown>;

/** The typed readers of parse.ts that the scheduling keys use (its Reader satisfies this). */
export interface FieldReader {
  obj(v: unknown, field: string): Obj | undefined;
  bool(v: unknown, field: string): boolean | undefined;
  int(v: unknown, field: string): number | undefined;
  str(v: unknown, field: string): string | undefined;
  strList(v: unknown, field: string, allowSingle?: boolean): string[] | undefined;
  unknownKeys(o: Obj, known: readonly string[], field: string, what: string): void;
  error(field: string, message: string): void;
}

/** Keys a release target may have besides Estafette's. */
export const RELEASE_SCHEDULING_KEYS = ['concurrency', 'approval'] as const;

/** Most builds or releases a limit may allow (beyond that a limit is not a limit). */
const MAX_CONCURRENCY = 1000;

const defined = <T extends object>(o: T): T => {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
};

/** Reads top-level `concurrency`, `paths` and `ignorePaths` of `doc`. */
export function readSchedulingKeys(r: FieldReader, doc: Obj): Pick<Manifest, 'concurrency' | 'paths' | 'ignorePaths'> {
  const out: Pick<Manifest, 'concurrency' | 'paths' | 'ignorePaths'> = {};
  if (doc.concurrency !== undefined && doc.concurrency !== null) {
    const c = r.obj(doc.concurrency, 'concurrency');
    if (c) {
      r.unknownKeys(c, ['cancelSuperseded', 'builds', 'perBranch'], 'concurrency', 'concurrency');
      const concurrency: ManifestConcurrency = defined({
        cancelSuperseded: Array.isArray(c.cancelSuperseded) ? r.strList(c.cancelSuperseded, 'concurrency.cancelSuperseded') : r.bool(c.cancelSuperseded, 'concurrency.cancelSuperseded'),
        builds: r.int(c.builds, 'concurrency.builds'),
        perBranch: r.bool(c.perBranch, 'concurrency.perBranch'),
      });
      out.concurrency = concurrency;
    }
  }
  const paths = r.strList(doc.paths, 'paths', true);
  if (paths) out.paths = paths;
  const ignorePaths = r.strList(doc.ignorePaths, 'ignorePaths', true);
  if (ignorePaths) out.ignorePaths = ignorePaths;
  return out;
}

/** Reads a release target's `concurrency` and `approval` (`f` is its field path). */
export function readReleaseSchedulingKeys(r: FieldReader, o: Obj, f: string): Pick<ManifestRelease, 'concurrency' | 'approval'> {
  const out: Pick<ManifestRelease, 'concurrency' | 'approval'> = {};
  const concurrency = r.int(o.concurrency, `${f}.concurrency`);
  if (concurrency !== undefined) out.concurrency = concurrency;
  if (o.approval !== undefined && o.approval !== null) {
    const a = r.obj(o.approval, `${f}.approval`);
    if (a) {
      const af = `${f}.approval`;
      r.unknownKeys(a, ['required', 'roles', 'users', 'groups', 'expiresAfter', 'allowRequester'], af, 'approval');
      const approval: ManifestApproval = defined({
        required: r.int(a.required, `${af}.required`),
        roles: r.strList(a.roles, `${af}.roles`, true),
        users: r.strList(a.users, `${af}.users`, true),
        groups: r.strList(a.groups, `${af}.groups`, true),
        expiresAfter: r.str(a.expiresAfter, `${af}.expiresAfter`),
        allowRequester: r.bool(a.allowRequester, `${af}.allowRequester`),
      });
      out.approval = approval;
    }
  }
  return out;
}

/** Every problem of the scheduling keys of `m`. */
export function lintScheduling(m: Manifest): Problem[] {
  const problems: Problem[] = [];
  const error = (field: string, message: string) => problems.push({ field, message, severity: 'error' });
  const warn = (field: string, message: string) => problems.push({ field, message, severity: 'warning' });
  const limit = (n: number | undefined, field: string) => {
    if (n !== undefined && (n < 1 || n > MAX_CONCURRENCY)) error(field, `must be an integer from 1 to ${MAX_CONCURRENCY}`);
  };
  const globs = (list: string[] | undefined, field: string) =>
    list?.forEach((g, i) => {
      const problem = checkGlob(g);
      if (problem) error(`${field}[${i}]`, problem);
    });
  const c = m.concurrency;
  if (c) {
    limit(c.builds, 'concurrency.builds');
    if (c.perBranch !== undefined && c.builds === undefined) warn('concurrency.perBranch', "has no effect without 'builds'");
    if (Array.isArray(c.cancelSuperseded)) globs(c.cancelSuperseded, 'concurrency.cancelSuperseded');
  }
  globs(m.paths, 'paths');
  globs(m.ignorePaths, 'ignorePaths');
  if (m.paths?.length === 0) warn('paths', 'an empty list: no push will ever build this pipeline');
  for (const r of m.releases) {
    const f = `releases.${r.name}`;
    limit(r.concurrency, `${f}.concurrency`);
    const a = r.approval;
    if (!a) continue;
    if (a.required !== undefined && (a.required < 1 || a.required > 100)) error(`${f}.approval.required`, 'must be an integer from 1 to 100');
    a.roles?.forEach((role, i) => {
      if (!(ROLES as readonly string[]).includes(role)) error(`${f}.approval.roles[${i}]`, `unknown role '${role}' (roles: ${ROLES.join(', ')})`);
    });
    if (a.expiresAfter !== undefined) {
      const s = parseDurationSeconds(a.expiresAfter);
      if (s === undefined || s <= 0) error(`${f}.approval.expiresAfter`, `'${a.expiresAfter}' is not a duration (e.g. 30m, 24h)`);
    }
    const onlyUsers = !a.roles?.length && !a.groups?.length;
    if (onlyUsers && a.roles !== undefined && !a.users?.length) error(`${f}.approval`, 'nobody may approve: give roles, users or groups');
    else if (onlyUsers && a.users?.length && a.users.length < (a.required ?? 1)) {
      error(`${f}.approval.required`, `needs ${a.required ?? 1} approvals but only ${a.users.length} user(s) may approve`);
    }
  }
  return problems;
}

/** Branches whose builds are never superseded unless the manifest says so (Estafette's release branch default). */
const PROTECTED_BRANCHES = ['main', 'master'];

/**
 * Whether a push to `branch` cancels that branch's older pending/running builds:
 * `concurrency.cancelSuperseded` true/false/globs, else every branch but main, master and the
 * manifest's release branch (`version.semver.releaseBranch`).
 */
export function cancelsSuperseded(m: Manifest, branch: string): boolean {
  const setting = m.concurrency?.cancelSuperseded;
  if (typeof setting === 'boolean') return setting;
  if (Array.isArray(setting)) return globMatcher(setting)(branch);
  if (PROTECTED_BRANCHES.includes(branch)) return false;
  const releaseBranches = m.version.semver?.releaseBranch ?? [];
  // An empty pattern would match every branch (matchPattern's rule for filters): it protects none.
  return !releaseBranches.some((p) => p.trim() !== '' && matchPattern(p, branch));
}

/** The build concurrency limit of a pipeline: `limit` running at once, counted per pipeline or per branch; undefined = none. */
export function buildLimit(m: Manifest): { limit: number; perBranch: boolean } | undefined {
  const n = m.concurrency?.builds;
  return n === undefined ? undefined : { limit: n, perBranch: m.concurrency?.perBranch ?? false };
}

/** An approval rule with its defaults applied, as stored with a release waiting for it. */
export interface ApprovalRule {
  required: number;
  roles: string[];
  users: string[];
  groups: string[];
  /** Seconds from the request until the release is canceled unapproved; absent = never. */
  expiresAfterSeconds?: number;
  allowRequester: boolean;
}

/** How a release to `target` is scheduled: its concurrency limit (default 1) and approval rule. */
export function releaseSchedule(m: Manifest, target: string): { limit: number; approval?: ApprovalRule } {
  const r = m.releases.find((x) => x.name === target);
  const out: { limit: number; approval?: ApprovalRule } = { limit: r?.concurrency ?? 1 };
  const a = r?.approval;
  if (a) {
    const users = a.users ?? [];
    const groups = a.groups ?? [];
    const expires = a.expiresAfter === undefined ? undefined : parseDurationSeconds(a.expiresAfter);
    out.approval = {
      required: a.required ?? 1,
      roles: a.roles ?? (users.length || groups.length ? [] : ['operator']),
      users,
      groups,
      ...(expires ? { expiresAfterSeconds: expires } : {}),
      allowRequester: a.allowRequester ?? false,
    };
  }
  return out;
}

/**
 * Why a push with these changed files builds nothing, or undefined when it builds. Unknown
 * changes (`files` undefined: no before revision, or a forge that does not list them) always build.
 */
export function pathFilterSkip(m: Manifest, files: readonly string[] | undefined): string | undefined {
  if (files === undefined || (m.paths === undefined && m.ignorePaths === undefined)) return undefined;
  const ignored = globMatcher(m.ignorePaths ?? []);
  const relevant = files.filter((f) => !ignored(f));
  if (m.paths === undefined) {
    if (relevant.length > 0) return undefined;
    return files.length === 0 ? 'the push changed no files' : `every changed file matches ignorePaths (${files.length} file${files.length === 1 ? '' : 's'})`;
  }
  if (anyMatches(m.paths, relevant)) return undefined;
  const n = files.length;
  return `no changed file matches paths [${m.paths.join(', ')}]${m.ignorePaths?.length ? ` outside ignorePaths` : ''} (${n} changed file${n === 1 ? '' : 's'})`;
}
