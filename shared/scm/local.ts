/** Reads the manifest of a local repository (file:// URL or path) with `git show`, and diffs two revisions with `git diff`. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeManifestBytes } from '../manifest/text.ts';
import { MANIFEST_FILE, ScmError, type RepoLocation, type ScmProvider } from './provider.ts';

const run = promisify(execFile);
const stderrOf = (err: unknown): string => String((err as { stderr?: string }).stderr ?? err).trim();

const dirOf = (repo: RepoLocation): string => (repo.cloneUrl.startsWith('file://') ? decodeURIComponent(new URL(repo.cloneUrl).pathname) : repo.cloneUrl);

export const localScm: ScmProvider = {
  name: 'local',
  async changedFiles(repo: RepoLocation, before: string, revision: string): Promise<string[] | undefined> {
    for (const r of [before, revision]) if (!/^[0-9a-f]{4,64}$/i.test(r)) throw new ScmError('local', 400, `not a commit sha: ${r}`);
    try {
      // -z: paths exactly as stored (no quoting of unusual characters); renames count as both paths.
      const { stdout } = await run('git', ['-C', dirOf(repo), 'diff', '--name-only', '--no-renames', '-z', before, revision, '--'], { maxBuffer: 16 * 1024 * 1024 });
      return stdout.split('\0').filter(Boolean);
    } catch (err) {
      throw new ScmError('local', 404, stderrOf(err).split('\n')[0] ?? 'git diff failed');
    }
  },
  async getManifest(repo: RepoLocation, revision: string): Promise<string | undefined> {
    const dir = dirOf(repo);
    if (!/^[0-9a-f]{4,64}$/i.test(revision)) throw new ScmError('local', 400, `not a commit sha: ${revision}`);
    let bytes: Buffer;
    // `git show` says "does not exist" for an unknown revision too, so check the commit first.
    try {
      await run('git', ['-C', dir, 'cat-file', '-e', `${revision}^{commit}`]);
    } catch (err) {
      const msg = stderrOf(err);
      if (/not a git repository|cannot change to|No such file/i.test(msg)) throw new ScmError('local', 404, `no git repository at ${dir}`);
      throw new ScmError('local', 404, `revision ${revision} not found in ${dir}`);
    }
    try {
      const { stdout } = await run('git', ['-C', dir, 'show', `${revision}:${MANIFEST_FILE}`], { maxBuffer: 2 * 1024 * 1024, encoding: 'buffer' });
      bytes = stdout;
    } catch (err) {
      const msg = stderrOf(err);
      if (/does not exist in|exists on disk, but not in/.test(msg)) return undefined;
      throw new ScmError('local', 500, msg.split('\n')[0]);
    }
    // Strictly UTF-8: a manifest that is not is refused with the reason, never silently altered.
    return decodeManifestBytes(bytes);
  },
};
