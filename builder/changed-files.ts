/**
 * The builder's half of `changed(…)` in `when`: when dispatch knew only the push's before
 * revision (a forge payload without file lists, a remote repository it could not diff), the
 * builder diffs before..revision in its clone, right after the git-clone stage. The clone is
 * shallow, so the before commit is fetched first (depth 1: `git diff` of two commits needs only
 * their trees). Anything that fails leaves the files unknown, and then every `changed(…)` is
 * true — a build never skips a stage on a guess. This module is owned with scheduling (issue 22);
 * run-build.ts only calls it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { PlanChanges } from '../shared/plan/types.ts';

const run = promisify(execFile);

/** Most paths kept; a larger diff counts as unknown (everything runs). */
const MAX_DIFF_FILES = 20_000;

/**
 * The changes with `files` filled from the clone in `dir` when only `before` was known;
 * `changes` unchanged otherwise. `note` receives one line saying what happened.
 */
export async function completeChanges(changes: PlanChanges | undefined, dir: string, revision: string, note: (line: string) => void, signal?: AbortSignal): Promise<PlanChanges | undefined> {
  if (!changes?.before || changes.files || !revision) return changes;
  const git = (args: string[]) => run('git', ['-C', dir, ...args], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' }, maxBuffer: 32 * 1024 * 1024, ...(signal ? { signal } : {}) });
  try {
    const have = await git(['cat-file', '-e', `${changes.before}^{commit}`]).then(
      () => true,
      () => false,
    );
    if (!have) await git(['fetch', '-q', '--depth', '1', 'origin', '--', changes.before]);
    const { stdout } = await git(['diff', '--name-only', '--no-renames', '-z', changes.before, revision, '--']);
    const files = stdout.split('\0').filter(Boolean);
    if (files.length > MAX_DIFF_FILES) {
      note(`changed files: more than ${MAX_DIFF_FILES} between ${changes.before.slice(0, 8)} and ${revision.slice(0, 8)}; every changed() is true`);
      return changes;
    }
    note(`changed files: ${files.length} between ${changes.before.slice(0, 8)} and ${revision.slice(0, 8)}`);
    return { ...changes, files };
  } catch (err) {
    note(`changed files unknown (${(err as Error).message.split('\n')[0]}); every changed() is true`);
    return changes;
  }
}
