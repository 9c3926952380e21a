/**
 * Prints a build's log from the server the way `estafette run` prints a local one (the same
 * terminal reporter): a `▶ stage` header per stage run, its lines, a result line per stage and a
 * summary table at the end. Stored lines carry no "stage started" report, so a header is also
 * made from the first line of a stage run; a report for a header already printed is dropped.
 * Without stage results (a finished build's stored log) the end is one `build <status>` line.
 */
import { parseCliConfig } from '../../shared/config/config.ts';
import type { Writable } from 'node:stream';
import { createTerminalReporter } from '../../builder/terminal-reporter.ts';
import type { LogLine, StageReport, StatusReport } from '../../shared/logs/protocol.ts';
import type { JobStatus } from '../../shared/status/status.ts';

/** Prints lines and status reports; `close()` writes the summary. */
export interface LogPrinter {
  line(l: LogLine): void | Promise<void>;
  status(report: StatusReport): void;
  /** True once a stage's final result was printed. */
  hasResults(): boolean;
  /** Writes the summary table, or just the job's final status when no stage result was seen (a stored log). */
  close(finalStatus?: string): Promise<void>;
}

/** A printer writing to `out` (colour on a TTY unless NO_COLOR is set). */
export function createLogPrinter(out: Writable & { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): LogPrinter {
  const reporter = createTerminalReporter({ out, colour: Boolean(out.isTTY) && !parseCliConfig(env).noColor });
  const headers = new Set<string>();
  const header = (stage: string, run: number): void => {
    const key = `${stage}#${run}`;
    if (headers.has(key)) return;
    headers.add(key);
    reporter.status({ stages: [{ stage, run, kind: 'stage', status: 'running' }] });
  };
  return {
    line(l) {
      // A parallel child's or a service's lines are prefixed with their path: the header is the top stage's.
      const top = l.stage.split('/')[0]!;
      if (top === l.stage) header(top, l.run);
      else if (![...headers].some((k) => k.startsWith(`${top}#`))) header(top, 1);
      return reporter.line(l.stage, l.run, l.stream, l.text);
    },
    status(report) {
      const stages = (report.stages ?? []).filter((s: StageReport) => {
        if (s.status !== 'running') return true;
        const key = `${s.stage}#${s.run}`;
        if (headers.has(key)) return false;
        headers.add(key);
        return true;
      });
      reporter.status({ ...report, stages });
    },
    hasResults: () => reporter.finalStages().length > 0,
    async close(finalStatus) {
      if (finalStatus) reporter.status({ status: finalStatus as JobStatus });
      const summarised = reporter.finalStages().length > 0;
      await reporter.close();
      if (finalStatus && !summarised) await new Promise<void>((resolve) => out.write(`build ${finalStatus}\n`, () => resolve()));
    },
  };
}
