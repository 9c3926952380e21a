/**
 * The terminal reporter used by `estafette run`: a header per stage run, the stage's lines
 * (prefixed with the stage path for parallel children and services, whose output interleaves),
 * a result line per stage run, and a summary table (stage, status, duration) when the build ends.
 * Colour only when the output is a TTY.
 */
import type { Writable } from 'node:stream';
import type { LogStream, StageReport, StatusReport } from '../shared/logs/protocol.ts';
import type { Reporter } from './reporter.ts';

export interface TerminalReporterOptions {
  out: Writable;
  colour: boolean;
}

const COLOURS = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, blue: 34, grey: 90 } as const;

const STATUS_COLOUR: Record<string, keyof typeof COLOURS> = {
  succeeded: 'green',
  failed: 'red',
  canceled: 'yellow',
  skipped: 'grey',
  running: 'blue',
};

/** Formats milliseconds as a short duration (`850ms`, `12.3s`, `2m05s`). */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A reporter writing to a terminal (or any stream). */
export function createTerminalReporter(options: TerminalReporterOptions): Reporter & { finalStages(): StageReport[] } {
  const { out, colour } = options;
  const paint = (c: keyof typeof COLOURS, s: string): string => (colour ? `\u001b[${COLOURS[c]}m${s}\u001b[0m` : s);
  const finals = new Map<string, StageReport>();
  let jobStatus: string | undefined;
  let waiting: Promise<void> | undefined;

  const write = (s: string): void | Promise<void> => {
    if (out.write(s)) return undefined;
    waiting ??= new Promise<void>((resolve) =>
      out.once('drain', () => {
        waiting = undefined;
        resolve();
      }),
    );
    return waiting;
  };

  const key = (r: StageReport): string => `${r.stage}#${r.run}`;
  const label = (r: StageReport): string => (r.run > 1 ? `${r.stage} (run ${r.run})` : r.stage);

  const onStage = (r: StageReport): void => {
    if (r.status === 'running') {
      void write(`${paint('bold', `▶ ${label(r)}`)}${r.kind === 'service' ? paint('dim', ' (service)') : ''}\n`);
      return;
    }
    finals.set(key(r), r);
    const parts = [paint(STATUS_COLOUR[r.status] ?? 'bold', `${r.status === 'succeeded' ? '✔' : r.status === 'failed' ? '✘' : '•'} ${label(r)} ${r.status}`)];
    if (r.durationMs !== undefined) parts.push(paint('dim', formatDuration(r.durationMs)));
    if (r.message) parts.push(paint('dim', `— ${r.message}`));
    void write(`${parts.join(' ')}\n`);
  };

  return {
    line(stage: string, _run: number, stream: LogStream, text: string) {
      const prefix = stage.includes('/') ? paint('grey', `${stage} │ `) : '  ';
      return write(`${prefix}${stream === 'stderr' ? paint('yellow', text) : text}\n`);
    },

    status(report: StatusReport) {
      for (const s of report.stages ?? []) onStage(s);
      if (report.status) jobStatus = report.status;
    },

    finalStages: () => [...finals.values()],

    async close() {
      const rows = [...finals.values()];
      if (rows.length > 0) {
        const w = Math.max(5, ...rows.map((r) => label(r).length));
        const lines = ['', paint('bold', `${'STAGE'.padEnd(w)}  ${'STATUS'.padEnd(9)}  DURATION`)];
        for (const r of rows) {
          lines.push(`${label(r).padEnd(w)}  ${paint(STATUS_COLOUR[r.status] ?? 'bold', r.status.padEnd(9))}  ${formatDuration(r.durationMs)}`);
        }
        if (jobStatus) lines.push('', paint(STATUS_COLOUR[jobStatus] ?? 'bold', `build ${jobStatus}`));
        await write(`${lines.join('\n')}\n`);
      }
      return true;
    },
  };
}
