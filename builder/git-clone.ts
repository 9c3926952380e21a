/**
 * The builtin `git-clone` stage: fetches exactly the build's revision into the work dir with the
 * `git` CLI, shallow (`git init` + `git fetch --depth 1 origin <rev>` + checkout), which works for
 * https, ssh, file:// and local paths alike. When the remote refuses to serve a bare revision
 * shallowly, the branch is fetched instead and deepened until the revision is there.
 *
 * Credentials in the clone URL (https://user:token@host/…) never reach a command line or the work
 * dir: the remote is the URL without them, and git gets them from a credential helper that reads
 * two variables of git's own environment. git runs with the minimal base environment only.
 */
import { spawn } from 'node:child_process';
import type { BuilderConfig } from '../shared/plan/builder-config.ts';
import { inheritedEnv } from '../shared/config/config.ts';
import type { LineSink, StageResult } from './executors/executor.ts';
import { pipeLines } from './output-lines.ts';

/** The clone URL with any user:password removed, for echoing. */
const redactUrl = (url: string): string => url.replace(/\/\/[^/@]+@/, '//***@');

/** The URL without user and password, and those (decoded) when it had them. */
function splitCredentials(url: string): { url: string; username?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url }; // a local path or scp-like ssh address: nothing to split
  }
  if (!u.username && !u.password) return { url };
  const out = { url: '', username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  u.username = '';
  u.password = '';
  out.url = u.href;
  return out;
}

/** Answers git's credential `get` from GIT_CLONE_USERNAME / GIT_CLONE_PASSWORD (names only here, values in the env). */
const CREDENTIAL_HELPER = '!f() { test "$1" = get && printf "username=%s\\npassword=%s\\n" "$GIT_CLONE_USERNAME" "$GIT_CLONE_PASSWORD"; }; f';

interface GitRun {
  dir: string;
  onLine: LineSink;
  signal: AbortSignal;
  /** git's environment: the minimal base, no prompts, and the clone credentials if any. */
  env: Record<string, string>;
  /** `-c` options for commands that talk to the remote (the credential helper). */
  remoteConfig: string[];
}

function git(args: string[], run: GitRun, options: { echo?: boolean; remote?: boolean; quiet?: boolean } = {}): Promise<number> {
  if (options.echo ?? true) void run.onLine('stdout', `> git ${args.map(redactUrl).join(' ')}`);
  // A quiet command's own output is dropped (its exit code is all that matters).
  const sink: LineSink = options.quiet ? async () => {} : run.onLine;
  return new Promise((resolve) => {
    const child = spawn('git', [...(options.remote ? run.remoteConfig : []), ...args], { cwd: run.dir, stdio: ['ignore', 'pipe', 'pipe'], env: run.env, signal: run.signal });
    const output = Promise.all([pipeLines(child.stdout, 'stdout', sink), pipeLines(child.stderr, 'stderr', sink)]);
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
  const remote = splitCredentials(gitConfig.cloneUrl);
  // Never prompt for credentials in a build: fail instead.
  const env: Record<string, string> = { ...inheritedEnv(), GIT_TERMINAL_PROMPT: '0' };
  // Reset helpers from the user's git config (local mode), then ours when the URL had credentials.
  const remoteConfig = ['-c', 'credential.helper='];
  if (remote.username !== undefined) {
    env.GIT_CLONE_USERNAME = remote.username;
    env.GIT_CLONE_PASSWORD = remote.password ?? '';
    remoteConfig.push('-c', `credential.helper=${CREDENTIAL_HELPER}`);
  }
  const run: GitRun = { dir, onLine, signal, env, remoteConfig };
  const ref = gitConfig.revision || gitConfig.branch;
  if (!gitConfig.cloneUrl || !ref) return { exitCode: 1, aborted: false, message: 'no clone url or revision to clone' };
  const fail = (message: string): StageResult => ({ exitCode: 1, aborted: signal.aborted, message });

  if ((await git(['init', '-q', '.'], run)) !== 0) return fail('git init failed');
  // A work dir reused by a retry may have an origin already; a fresh one has none (no error line for that).
  await git(['remote', 'remove', 'origin'], run, { echo: false, quiet: true });
  if ((await git(['remote', 'add', 'origin', remote.url], run)) !== 0) return fail('git remote add failed');

  // Every ref follows `--`: a name can never be read as an option (builder/config.ts also checks them).
  const fetch = (args: string[]): Promise<boolean> => git(['fetch', '-q', ...args], run, { remote: true }).then((c) => c === 0);
  let fetched = await fetch(['--depth', '1', 'origin', '--', ref]);
  if (!fetched && !signal.aborted && gitConfig.branch && gitConfig.revision) {
    // Servers without allowReachableSHA1InWant: fetch the branch, then deepen until the revision is in.
    fetched = await fetch(['--depth', '50', 'origin', '--', gitConfig.branch]);
    if (fetched && (await git(['cat-file', '-e', `${gitConfig.revision}^{commit}`], run, { echo: false })) !== 0) {
      fetched = await fetch(['--unshallow', 'origin', '--', gitConfig.branch]);
    }
  }
  if (signal.aborted) return fail('clone interrupted');
  if (!fetched) return fail(`cannot fetch ${ref} from ${redactUrl(gitConfig.cloneUrl)}`);
  const target = gitConfig.revision || 'FETCH_HEAD';
  // `--` after the refs: nothing after it is a path, nothing before it can be taken for one.
  const checkout = gitConfig.branch ? ['checkout', '-q', '-B', gitConfig.branch, target, '--'] : ['checkout', '-q', '--detach', target, '--'];
  if ((await git(checkout, run)) !== 0) return fail(`cannot check out ${target}`);
  return { exitCode: 0, aborted: false };
}
