/**
 * `estafette logs PIPELINE [BUILD] [--follow] [--stage PATH]`: a build's log from a server
 * (ESTAFETTE_URL, else the running `estafette start`), printed as `estafette run` prints one.
 * Without --follow it prints what is stored and ends; with it, it streams the rest live and
 * exits with the build's result.
 */
import { parseCliConfig } from '../../shared/config/config.ts';
import type { LogLine } from '../../shared/logs/protocol.ts';
import { parseCommandArgs } from '../args.ts';
import { ApiError, apiClient } from '../client/api-client.ts';
import { createLogPrinter } from '../client/log-printer.ts';
import { pipelinePath, resolveBuild, resolvePipeline } from '../client/pipeline-ref.ts';
import { resolveServer } from '../client/server.ts';
import { watchBuild } from '../client/watch-build.ts';

export const summary = "print a build's log from a server (--follow to stream it live)";
export const usage = 'estafette logs PIPELINE [BUILD] [--follow] [--stage PATH]';
export const details = `PIPELINE is source/owner/repo as the web UI shows it (local/owner/repo for a repository
built with 'estafette trigger'), or owner/repo when that is unique. BUILD is a build number (see
'estafette builds'), a build id or a commit (40 hex); the latest build when left out.

The server is ESTAFETTE_URL, else the running 'estafette start', else http://localhost:8080;
where sign-in is on, ESTAFETTE_CLIENT_ID and ESTAFETTE_CLIENT_SECRET name an API client.

options:
  -f, --follow      stream the log until the build ends, and exit with its result
  --stage PATH      only this stage's lines (a parallel stage or service as parent/name)

exit codes: 0 printed (with --follow: the build succeeded), 1 the build failed or was canceled,
or the server could not be reached or refused, 2 wrong usage`;

const PAGE = 5000;

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    options: { follow: { type: 'boolean', short: 'f' }, stage: { type: 'string' } },
    positionals: { names: ['PIPELINE', 'BUILD'], required: 1 },
  });
  const config = parseCliConfig();
  const api = apiClient(resolveServer(config).url, config.client ? { client: config.client } : {});
  try {
    const p = await resolvePipeline(api, positionals[0]!);
    const build = await resolveBuild(api, p, positionals[1]);
    if (values.follow) return await watchBuild(api, p, build, values.stage ? { stage: values.stage } : {});
    const printer = createLogPrinter(process.stdout);
    const path = `${pipelinePath(p)}/builds/${encodeURIComponent(build.id)}/loglines`;
    for (let after = -1; ; ) {
      const { items } = await api.get<{ items: LogLine[] }>(path, { after, limit: PAGE, ...(values.stage ? { stage: values.stage } : {}) });
      for (const l of items) await printer.line(l);
      if (items.length < PAGE) break;
      after = items[items.length - 1]!.seq;
    }
    await printer.close(build.buildStatus);
    return 0;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    process.stderr.write(`estafette logs: ${err.message}\n`);
    return 1;
  }
}
