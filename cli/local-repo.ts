/**
 * Facts of a local repository for the commands that build or preview it without a server
 * (`run`, `plan`): git output in a directory, and the pipeline name from its origin remote.
 */
import { execFileSync } from 'node:child_process';
import { basename } from 'node:path';

/** Output of a git command in dir, or undefined when it fails (not a repository, no commits). */
export function git(dir: string, args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** source/owner/name from the origin remote (github.com/o/r), else local/local/<dir name>. */
export function repoOf(dir: string): { repoSource: string; repoOwner: string; repoName: string } {
  const origin = git(dir, ['remote', 'get-url', 'origin']);
  const m = origin && /^(?:[a-z+]+:\/\/)?(?:[^@/]+@)?([^/:]+)[:/]([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(origin);
  if (m) return { repoSource: m[1]!, repoOwner: m[2]!, repoName: m[3]! };
  return { repoSource: 'local', repoOwner: 'local', repoName: basename(dir) };
}
