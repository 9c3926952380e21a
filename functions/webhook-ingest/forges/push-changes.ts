/**
 * The before revision and changed files of a push, from payloads that list them per commit
 * (GitHub, Gitea and GitLab: `commits[].added/modified/removed`). Files are given only when the
 * list is complete: not for a new branch (nothing to compare with), a forced push (the commits
 * are not the difference), or a payload that carries fewer commits than were pushed (forges cap
 * the list) — then build-dispatch or the builder diffs the revisions instead.
 */
import { ZERO_SHA } from './forge.ts';
import { arr, at, optStr } from './payload.ts';

/** Most paths taken from one payload; a push touching more is treated as "unknown" (everything builds). */
const MAX_CHANGED_FILES = 5000;

/** `before` and `changedFiles` of a git.push (spread into its data). */
export interface PushChanges {
  before?: string;
  changedFiles?: string[];
}

/**
 * Reads a commit-listing payload. `complete` says whether its commits are all of the push's
 * (e.g. GitLab's total_commits_count equals their number).
 */
export function listedPushChanges(body: unknown, complete: boolean): PushChanges {
  const raw = optStr(body, 'before');
  const before = raw && !ZERO_SHA.test(raw) ? raw : undefined;
  if (!before) return {};
  if (!complete || at(body, 'forced') === true || at(body, 'created') === true) return { before };
  const files = new Set<string>();
  for (const c of arr(body, 'commits')) {
    for (const key of ['added', 'modified', 'removed']) {
      const list = at(c, key);
      if (list === undefined || list === null) continue;
      // A payload without per-commit file lists (some forges or versions) says nothing about files.
      if (!Array.isArray(list)) return { before };
      for (const f of list) if (typeof f === 'string' && f) files.add(f);
    }
    if (!['added', 'modified', 'removed'].some((k) => Array.isArray(at(c, k)))) return { before };
  }
  if (files.size > MAX_CHANGED_FILES) return { before };
  return { before, changedFiles: [...files].sort() };
}

/** Only the before revision (payloads without file lists, e.g. Bitbucket). */
export function beforeOnly(before: string | undefined): PushChanges {
  return before && !ZERO_SHA.test(before) ? { before } : {};
}
