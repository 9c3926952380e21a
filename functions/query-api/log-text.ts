/**
 * The `…/logs.txt` response: a job's whole log as plain text, streamed page by page from the
 * database (so a 1M-line log never sits in memory), for reading raw in a tab, downloading and
 * piping into grep. It starts with a line naming the job, then every line in seq order, with a
 * stage header (`=== <stage>[ (run N)]: <status> ===`) before the first line and wherever the
 * stage changes (parallel stages interleave, so a header may repeat). Terminal escapes are
 * stripped unless `ansi`; `stage` keeps one stage path's lines; `download` asks the browser to
 * save it under a file name.
 */
import type { Writable } from 'node:stream';
import type pg from 'pg';
import { readLogLines } from '../../shared/db/logs.ts';
import { listStageRuns, type JobKind } from '../../shared/db/stages.ts';
import type { StreamResponse } from '../../shared/http/types.ts';
import { stripAnsi } from '../../shared/logs/ansi-text.ts';

/** What one plain-text log needs. */
export interface LogTextOptions {
  pool: pg.Pool;
  kind: JobKind;
  id: string;
  /** First line: what this log is (`build 1.0.3 of github.com/o/r (succeeded)`). */
  title: string;
  /** File name offered with `download` (without extension). */
  fileName: string;
  /** Keep terminal escapes (colours) in the text. */
  ansi: boolean;
  /** Only this stage path. */
  stage?: string;
  download: boolean;
}

const PAGE = 5000;

/** `name` reduced to characters that are safe in a Content-Disposition file name. */
export const safeFileName = (name: string): string =>
  name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120) || 'log';

/** The streamed plain-text log. */
export function logText(o: LogTextOptions): StreamResponse {
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
  if (o.download) headers['content-disposition'] = `attachment; filename="${safeFileName(o.fileName)}.log"`;
  return { status: 200, headers, stream: (out, signal) => write(o, out, signal) };
}

async function write(o: LogTextOptions, out: Writable, signal: AbortSignal): Promise<void> {
  const gone = () => signal.aborted || out.destroyed;
  const put = async (chunk: string): Promise<void> => {
    if (gone() || out.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('close', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
    });
  };
  const runs = await listStageRuns(o.pool, o.kind, o.id);
  const status = new Map(runs.map((r) => [`${r.stage}#${r.run}`, r]));
  const header = (stage: string, run: number): string => {
    const r = status.get(`${stage}#${run}`);
    const took = r?.durationMs != null ? ` in ${(r.durationMs / 1000).toFixed(1)}s` : '';
    return `=== ${stage}${run > 1 ? ` (run ${run})` : ''}${r ? `: ${r.status}${took}` : ''} ===\n`;
  };
  await put(`${o.title}\n`);
  let after = -1;
  let current = '';
  while (!gone()) {
    const lines = await readLogLines(o.pool, o.kind, o.id, { afterSeq: after, limit: PAGE, ...(o.stage ? { stage: o.stage } : {}) });
    if (!lines.length) break;
    let chunk = '';
    for (const l of lines) {
      const key = `${l.stage}#${l.run}`;
      if (key !== current) {
        chunk += `${current ? '\n' : ''}${header(l.stage, l.run)}`;
        current = key;
      }
      chunk += `${o.ansi ? l.text : stripAnsi(l.text)}\n`;
    }
    await put(chunk);
    after = lines[lines.length - 1]!.seq;
    if (lines.length < PAGE) break;
  }
}
