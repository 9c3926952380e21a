/**
 * The builtin `git-clone` stage: fetches exactly the build's revision into the work dir with the
 * `git` CLI, shallow (`git init` + `git fetch --depth 1 origin <rev>` + checkout), which works for
 * https, ssh, file:// and local paths alike. When the remote refuses to serve a bare revision
 * shallowly, the branch is fetched instead and deepened until the revision is there.
 */
import { spawn } from 'node:child_process';
import type { BuilderConfig } from '../shared/plan/builder-config.ts';
import type { LineSink, StageResult } from './executors/executor.ts';
import { pipeLines } from './output-lines.ts';

/** The clone URL with any user:password removed, for echoing. */
export const redactUrl = (url: string): string => url.replace(/\/\/[^/@]+@/, '//***@');

interface GitRun {
  dir: string;
  onLine: LineSink;
  signal: AbortSignal;
}

function git(args: string[], run: GitRun, echo = true): Promise<number> {
  if (echo) void run.onLine('stdout', `> git ${args.map(redactUrl).join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn('git', args, {
      cwd: run.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Never prompt for credentials in a build: fail instead.
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', BUILDER_CONFIG_PATH: '' },
      signal: run.signal,
    });
    const output = Promise.all([pipeLines(child.stdout, 'stdout', run.onLine), pipeLines(child.stderr, 'stderr', run.onLine)]);
    let code = 1;
    child.once('error', () => (code = 127));
    child.once('close', (c) => {
      code = c ?? code;
      void output.then(() => resolve(code));
    });
  });
}

/** Clones `config.git` into `dir`; a failure is a StageResult, never a rejection. */
export async function cloneRepository(gitConfig: BuilderConfig['git'], dir: string, onLine: LineSink, signal: AbortSignal): Promise<StageResult> {
  const run: GitRun = { dir, onLine, signal };
  const ref = gitConfig.revision || gitConfig.branch;
  if (!gitConfig.cloneUrl || !ref) return { exitCode: 1, aborted: false, message: 'no clone url or revision to clone' };
  const fail = (message: string): StageResult => ({ exitCode: 1, aborted: signal.aborted, message });

  if ((await git(['init', '-q', '.'], run)) !== 0) return fail('git init failed');
  await git(['remote', 'remove', 'origin'], run, false);
  if ((await git(['remote', 'add', 'origin', gitConfig.cloneUrl], run)) !== 0) return fail('git remote add failed');

  let fetched = (await git(['fetch', '-q', '--depth', '1', 'origin', ref], run)) === 0;
  if (!fetched && !signal.aborted && gitConfig.branch && gitConfig.revision) {
    // Servers without allowReachableSHA1InWant: fetch the branch, then deepen until the revision is in.
    fetched = (await git(['fetch', '-q', '--depth', '50', 'origin', gitConfig.branch], run)) === 0;
    if (fetched && (await git(['cat-file', '-e', `${gitConfig.revision}^{commit}`], run, false)) !== 0) {
      fetched = (await git(['fetch', '-q', '--unshallow', 'origin', gitConfig.branch], run)) === 0;
    }
  }
  if (signal.aborted) return fail('clone interrupted');
  if (!fetched) return fail(`cannot fetch ${ref} from ${redactUrl(gitConfig.cloneUrl)}`);
  const target = gitConfig.revision || 'FETCH_HEAD';
  const checkout = gitConfig.branch ? ['checkout', '-q', '-B', gitConfig.branch, target] : ['checkout', '-q', '--detach', target];
  if ((await git(checkout, run)) !== 0) return fail(`cannot check out ${target}`);
  return { exitCode: 0, aborted: false };
}
