/**
 * `estafette builds PIPELINE [--branch B] [--status S] [--limit N] [--json]`: a pipeline's
 * builds from a server (ESTAFETTE_URL, else the running `estafette start`), newest first, as a
 * table: number, version, branch, commit, status, when, duration, trigger and the commit message.
 */
import { formatDuration } from '../../builder/terminal-reporter.ts';
import { parseCliConfig } from '../../shared/config/config.ts';
import type { Build } from '../../shared/db/builds.ts';
import { isFinalJobStatus, JOB_STATUSES } from '../../shared/status/status.ts';
import { choice, integer, parseCommandArgs } from '../args.ts';
import { ApiError, apiClient } from '../client/api-client.ts';
import { pipelineName, pipelinePath, resolvePipeline } from '../client/pipeline-ref.ts';
import { resolveServer } from '../client/server.ts';

export const summary = "list a pipeline's builds on a server";
export const usage = 'estafette builds PIPELINE [--branch B] [--status S]… [--limit N] [--json]';
export const details = `PIPELINE is source/owner/repo as the web UI shows it (local/owner/repo for a repository
built with 'estafette trigger'), or owner/repo when that is unique.

The server is ESTAFETTE_URL, else the running 'estafette start', else http://localhost:8080;
where sign-in is on, ESTAFETTE_CLIENT_ID and ESTAFETTE_CLIENT_SECRET name an API client.

options:
  -b, --branch B    only builds of this branch
  --status S        only builds with this status (${JOB_STATUSES.join(', ')}); repeatable
  -n, --limit N     how many (1 to 100, default 20)
  --json            the API's build objects as a JSON array

exit codes: 0 listed, 1 the server could not be reached or refused, 2 wrong usage`;

/** What started a build: its trigger event, and the manifest trigger's name when one fired. */
/** A build as the API serves it (Estafette's contract): durations in nanoseconds, labels as `[{key, value}]`. */
type ApiBuild = Omit<Build, 'duration' | 'labels'> & { duration: number; labels: Array<{ key: string; value: string }> };

const triggerOf = (b: ApiBuild): string => (b.trigger ? [b.trigger.event, b.trigger.name].filter(Boolean).join(' ') : '');

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    options: { branch: { type: 'string', short: 'b' }, status: { type: 'string', multiple: true }, limit: { type: 'string', short: 'n' }, json: { type: 'boolean' } },
    positionals: { names: ['PIPELINE'], required: 1 },
  });
  const statuses = (values.status ?? []).map((s) => choice('status', s, JOB_STATUSES));
  const limit = values.limit === undefined ? 20 : integer('limit', values.limit, 1, 100);
  const config = parseCliConfig();
  const api = apiClient(resolveServer(config).url, config.client ? { client: config.client } : {});
  try {
    const p = await resolvePipeline(api, positionals[0]!);
    const page = await api.get<{ items: ApiBuild[]; pagination: { totalItems: number } }>(`${pipelinePath(p)}/builds`, {
      'page[size]': limit,
      'filter[branch]': values.branch,
      'filter[status]': statuses,
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(page.items, null, 2)}\n`);
      return 0;
    }
    if (!page.items.length) {
      process.stdout.write(`${pipelineName(p)}: no builds${values.branch || statuses.length ? ' match' : ' yet'}\n`);
      return 0;
    }
    const rows = page.items.map((b) => [
      String(b.buildNumber),
      b.buildVersion,
      b.repoBranch,
      b.repoRevision.slice(0, 8),
      b.buildStatus,
      (b.startedAt ?? b.insertedAt).replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      isFinalJobStatus(b.buildStatus) ? formatDuration(Math.round(b.duration / 1e6)) : '',
      triggerOf(b),
      (b.commits[0]?.message ?? '').split('\n')[0]!.slice(0, 60),
    ]);
    const head = ['#', 'VERSION', 'BRANCH', 'COMMIT', 'STATUS', 'STARTED', 'DURATION', 'TRIGGER', 'MESSAGE'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const fmt = (r: string[]) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd();
    process.stdout.write(`${[fmt(head), ...rows.map(fmt)].join('\n')}\n`);
    if (page.pagination.totalItems > page.items.length) process.stdout.write(`(${page.items.length} of ${page.pagination.totalItems}; --limit shows more)\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    process.stderr.write(`estafette builds: ${err.message}\n`);
    return 1;
  }
}
