/**
 * Loggers for tests: `recordingLogger(lines)` pushes each line's message (with its error field,
 * if any) into `lines` and keeps the whole records, so a test can assert on what was logged and
 * with which ids; `silentLogger` drops everything.
 */
import { createLogger, type Logger } from '../../shared/log/logger.ts';

/** A logger whose lines land in `lines` (as `msg`, plus `: error` when the line has one). */
export function recordingLogger(lines: string[] = [], records: Array<Record<string, unknown>> = []): Logger {
  return createLogger({
    level: 'trace',
    destination: {
      write(s: string) {
        for (const line of s.split('\n')) {
          if (!line) continue;
          const r = JSON.parse(line) as Record<string, unknown>;
          records.push(r);
          lines.push(typeof r.error === 'string' ? `${String(r.msg)}: ${r.error}` : String(r.msg));
        }
      },
    },
  });
}

/** A logger that writes nothing. */
export const silentLogger: Logger = createLogger({ level: 'silent' });
