/**
 * Where a failed stage failed: the line to land on when a failed build opens. The builder echoes
 * each command as `> <command>` before running it, so the failing command is the last one
 * echoed; its first stderr line is the error (builder notes, `estafette: …`, do not count);
 * without one, the last lines before the exit. Also the exit code from the stage's message
 * (`exit code 2`).
 */
import type { LogLine } from '../api/types.ts';

const NOTE = /^estafette: /;

/**
 * The index of the error line in one stage run's lines, or undefined for an empty log: the
 * failing command's first stderr line; else its last line; else, for a command that printed
 * nothing, the last line printed before it (echoes and notes skipped); else its echo.
 */
export function errorLineIndex(lines: readonly LogLine[]): number | undefined {
  const echo = (l: LogLine) => l.stream === 'stdout' && l.text.startsWith('> ');
  const output = (l: LogLine) => !echo(l) && !NOTE.test(l.text);
  let lastCommand = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (echo(lines[i]!)) {
      lastCommand = i;
      break;
    }
  }
  for (let i = lastCommand + 1; i < lines.length; i++) if (lines[i]!.stream === 'stderr' && output(lines[i]!)) return i;
  for (let i = lines.length - 1; i > lastCommand; i--) if (output(lines[i]!)) return i;
  for (let i = lastCommand - 1; i >= 0; i--) if (output(lines[i]!)) return i;
  if (lastCommand >= 0) return lastCommand;
  return lines.length ? lines.length - 1 : undefined;
}

/** The exit code a stage message names (`exit code 2` → 2), or undefined. */
export function exitCodeOf(message: string | null | undefined): number | undefined {
  const m = /exit code (\d+)/.exec(message ?? '');
  return m ? Number(m[1]) : undefined;
}
