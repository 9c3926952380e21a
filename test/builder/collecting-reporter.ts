/** A Reporter that keeps everything in memory, for assertions in the builder specs. */
import type { LogLine, LogStream, StageReport, StatusReport } from '../../shared/logs/protocol.ts';
import type { Reporter } from '../../builder/reporter.ts';

export interface CollectingReporter extends Reporter {
  lines: Array<Omit<LogLine, 'seq' | 'time'>>;
  reports: StatusReport[];
  /** Final (non-running) stage reports in order. */
  finals(): StageReport[];
  /** Text of the lines of one stage (any run unless given). */
  textOf(stage: string, run?: number): string[];
  jobStatuses(): string[];
  /** Called for every line, e.g. to cancel once a stage prints something. */
  onLine?: (stage: string, text: string) => void;
}

export function collectingReporter(): CollectingReporter {
  const r: CollectingReporter = {
    lines: [],
    reports: [],
    line(stage: string, run: number, stream: LogStream, text: string) {
      r.lines.push({ stage, run, stream, text });
      r.onLine?.(stage, text);
    },
    status(report: StatusReport) {
      r.reports.push(structuredClone(report));
    },
    async close() {
      return true;
    },
    finals: () => r.reports.flatMap((x) => x.stages ?? []).filter((s) => s.status !== 'running'),
    textOf: (stage, run) => r.lines.filter((l) => l.stage === stage && (run === undefined || l.run === run)).map((l) => l.text),
    jobStatuses: () => r.reports.flatMap((x) => (x.status ? [x.status] : [])),
  };
  return r;
}
