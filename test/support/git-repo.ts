/** Temporary git repositories for tests: init, write files, commit; returns the head sha. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempRepo {
  dir: string;
  /** Writes files (path → content) and commits them; returns the new head sha. */
  commit(files: Record<string, string | Buffer>, message?: string): string;
  head(): string;
  remove(): void;
}

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' }).trim();

/** A new repository at `<tmp>/<owner>/<name>` on `branch`. */
export function tempRepo(name = 'repo', branch = 'main', owner = 'owner'): TempRepo {
  const root = mkdtempSync(join(tmpdir(), 'estafette-repo-'));
  const dir = join(root, owner, name);
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', branch, dir]);
  return {
    dir,
    commit(files, message = 'change') {
      for (const [p, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, p)), { recursive: true });
        writeFileSync(join(dir, p), content);
      }
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '--allow-empty', '-m', message);
      return git(dir, 'rev-parse', 'HEAD');
    },
    head: () => git(dir, 'rev-parse', 'HEAD'),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
