/**
 * `estafette trigger [DIR] [--branch B] [--watch]`: builds a local repository's HEAD on a running
 * `estafette start` through the generic webhook. The server and its webhook token come from the
 * local state (cli/client/server.ts), or ESTAFETTE_URL / ESTAFETTE_WEBHOOK_TOKEN. It warns when
 * the working tree has uncommitted changes (they are not built), waits for the build to appear,
 * prints its URL, and with --watch prints its log live and exits with its result.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoFromUrl } from '../../functions/webhook-ingest/forges/generic.ts';
import { parseCliConfig } from '../../shared/config/config.ts';
import { isRefName, refForMessage } from '../../shared/git/ref-name.ts';
import type { Build } from '../../shared/db/builds.ts';
import { parseCommandArgs } from '../args.ts';
import { triggerRepo } from '../start/trigger.ts';
import { ApiError, apiClient, type ApiClient } from '../client/api-client.ts';
import { watchBuild } from '../client/watch-build.ts';
import { buildPageUrl, pipelineName, pipelinePath, type PipelineRef } from '../client/pipeline-ref.ts';
import { resolveServer } from '../client/server.ts';

export const summary = 'build a local repository on a running `estafette start` (--watch to follow it)';
export const usage = 'estafette trigger [DIR] [--branch BRANCH] [--watch]';
export const details = `Builds the HEAD commit of the git repository at DIR (default .), which needs a .estafette.yaml.
Uncommitted changes are not part of the build (a warning says so).

The server is ESTAFETTE_URL, else the running 'estafette start' (found in ./.estafette/ or the
per-user state, with its webhook token), else http://localhost:8080. ESTAFETTE_WEBHOOK_TOKEN
overrides the token; ESTAFETTE_CLIENT_ID/SECRET sign in to follow a build where sign-in is on.

options:
  -b, --branch B   the branch to build (default: the checked-out one)
  -w, --watch      print the build's log as it runs and exit with its result

exit codes: 0 triggered (with --watch: the build succeeded), 1 the build failed or was canceled,
or the server could not be reached or refused, 2 wrong usage`;

/** How long to wait for build-dispatch to create the build of the event. */
const APPEAR_TIMEOUT_MS = 60_000;

const git = (dir: string, ...args: string[]): string => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** True when the git command exits 0. */
function succeeds(dir: string, ...args: string[]): boolean {
  try {
    git(dir, ...args);
    return true;
  } catch {
    return false;
  }
}

/** Changed and untracked files, without the local mode's own state folder. */
function uncommitted(dir: string): string[] {
  try {
    return git(dir, 'status', '--porcelain', '--untracked-files=normal')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3))
      .filter((f) => !/^\.estafette(\/|$)/.test(f));
  } catch {
    return []; // not a repository: the trigger says so itself
  }
}

/** The build that event `eventId` created, once build-dispatch has made it. */
async function awaitBuild(api: ApiClient, p: PipelineRef, eventId: string): Promise<Build> {
  const end = Date.now() + APPEAR_TIMEOUT_MS;
  for (;;) {
    try {
      const page = await api.get<{ items: Build[] }>(`${pipelinePath(p)}/builds`, { 'filter[eventId]': eventId, 'page[size]': 1 });
      const b = page.items.find((x) => x.eventId === eventId);
      if (b) return b;
    } catch (err) {
      // The pipeline appears with its first build.
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    if (Date.now() > end) throw new ApiError(0, `the server accepted the trigger (event ${eventId}) but no build of ${pipelineName(p)} appeared within ${APPEAR_TIMEOUT_MS / 1000}s; see the server's log`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    options: { branch: { type: 'string', short: 'b' }, watch: { type: 'boolean', short: 'w' } },
    positionals: { names: ['DIR'] },
  });
  const dir = positionals[0] ?? '.';
  if (values.branch !== undefined && !isRefName(values.branch)) {
    process.stderr.write(`estafette trigger: --branch ${refForMessage(values.branch)} is not a valid git branch name\n`);
    return 2;
  }
  if (!existsSync(join(dir, '.estafette.yaml'))) {
    process.stderr.write(`estafette trigger: no .estafette.yaml in ${dir}\n`);
    return 2;
  }
  if (!succeeds(dir, 'rev-parse', '--verify', '--quiet', 'HEAD^{commit}')) {
    const why = succeeds(dir, 'rev-parse', '--show-toplevel') ? 'has no commit yet' : 'is not in a git repository';
    process.stderr.write(`estafette trigger: ${dir} ${why}: trigger builds a commit ('estafette run' runs a working tree)\n`);
    return 2;
  }
  const config = parseCliConfig();
  const server = resolveServer(config);
  if (!server.webhookToken) {
    process.stderr.write(
      `estafette trigger: no webhook token for ${server.url}: set ESTAFETTE_WEBHOOK_TOKEN (printed by 'estafette start')${server.foundBy === 'default' ? ", or start the server with 'estafette start'" : ''}\n`,
    );
    return 2;
  }
  const changed = uncommitted(dir);
  if (changed.length) {
    const shown = changed.slice(0, 5).join(', ') + (changed.length > 5 ? `, … (${changed.length} files)` : '');
    process.stderr.write(`warning: uncommitted changes are not part of the build, which builds the last commit: ${shown}\n`);
  }
  let triggered;
  try {
    triggered = await triggerRepo(server.url, server.webhookToken, dir, values.branch);
  } catch (err) {
    const hint = /\b401\b/.test((err as Error).message) ? " (the token is not this server's: set ESTAFETTE_WEBHOOK_TOKEN to the one 'estafette start' printed)" : '';
    process.stderr.write(`estafette trigger: ${(err as Error).message}${hint}\n`);
    return 1;
  }
  const p = repoFromUrl(triggered.repository);
  process.stdout.write(`triggered ${pipelineName(p)} ${triggered.branch}@${triggered.revision.slice(0, 8)} (event ${triggered.eventId})\n`);
  const api = apiClient(server.url, config.client ? { client: config.client } : {});
  try {
    const build = await awaitBuild(api, p, triggered.eventId);
    process.stdout.write(`build ${build.buildNumber} (${build.buildVersion}): ${buildPageUrl(server.url, p, build.id)}\n`);
    if (!values.watch) return 0;
    return await watchBuild(api, p, build);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.status === 401 && !values.watch) {
      // Triggering needs only the webhook token; seeing the build needs a signed-in reader.
      process.stdout.write(`the build appears at ${server.url}${pipelinePath(p).replace(/^\/api/, '')} (${err.message})\n`);
      return 0;
    }
    process.stderr.write(`estafette trigger: ${err.message}\n`);
    return 1;
  }
}
