/**
 * Watching one build to its end — `estafette trigger --watch` and `estafette logs --follow`:
 * its log streamed live (log-follower.ts) through the terminal printer (log-printer.ts), then
 * the build's result as the exit code: 0 succeeded, 1 failed or canceled.
 */
import type { Build } from '../../shared/db/builds.ts';
import type { StageReport } from '../../shared/logs/protocol.ts';
import type { ApiClient } from './api-client.ts';
import { followLog } from './log-follower.ts';
import { createLogPrinter } from './log-printer.ts';
import { pipelinePath, type PipelineRef } from './pipeline-ref.ts';

/** Streams build `b` of pipeline `p` to stdout until it ends; resolves to the exit code. */
export async function watchBuild(api: ApiClient, p: PipelineRef, b: Pick<Build, 'id'>, options: { stage?: string } = {}): Promise<number> {
  const printer = createLogPrinter(process.stdout);
  const inStage = (stage: string) => !options.stage || stage === options.stage;
  const status = await followLog(api, `${pipelinePath(p)}/builds/${encodeURIComponent(b.id)}/logs.stream`, {
    onLine: (l) => (inStage(l.stage) ? printer.line(l) : undefined),
    onStatus: (s) => printer.status({ ...s, stages: (s.stages ?? []).filter((x) => inStage(x.stage)) }),
  });
  // A build that ended before the stream was opened sends its lines but no stage reports: its
  // stage results come from the stage list then, so the summary is the same however late we were.
  if (status && !printer.hasResults()) {
    const stages = await api.get<{ items: StageReport[] }>(`${pipelinePath(p)}/builds/${encodeURIComponent(b.id)}/stages`).catch(() => undefined);
    const final = (stages?.items ?? []).filter((s) => inStage(s.stage) && s.status !== 'pending' && s.status !== 'running');
    if (final.length) printer.status({ stages: final });
  }
  // The final status reaches the summary even when the stream's own status event was missed.
  await printer.close(status ?? undefined);
  if (status === null) process.stderr.write('the build is gone from the server\n');
  return status === 'succeeded' ? 0 : 1;
}
