/**
 * Where a build's output and status go. The builder in a Job ships them to log-ingest over HTTP
 * (log-shipper.ts); `estafette run` prints them on the terminal (terminal-reporter.ts). The build
 * orchestration is the same code path for both.
 */
import type { LogStream, StatusReport } from '../shared/logs/protocol.ts';

export interface Reporter {
  /**
   * One line of a stage run (already masked). Lines of one stage run arrive in order. A returned
   * promise means "too much is outstanding": the producer stops reading output until it settles.
   */
  line(stage: string, run: number, stream: LogStream, text: string): void | Promise<void>;
  /** A job and/or stage status change, delivered after every line reported before it. */
  status(report: StatusReport): void;
  /** Delivers everything outstanding. Resolves true when the last status report was delivered. */
  close(): Promise<boolean>;
}
