/**
 * Turns a byte stream (a child's stdout, a demultiplexed container stream) into lines for a
 * LineSink, with backpressure: when the sink returns a promise the stream is paused until it
 * settles, so output of any size is processed with flat memory.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { LogStream } from '../shared/logs/protocol.ts';
import type { LineSink } from './executors/executor.ts';

/** Longer lines are cut into pieces of this many characters, so one line cannot exhaust memory. */
export const MAX_LINE_CHARS = 64 * 1024;

/**
 * Splits text chunks into lines. `push` returns the complete lines found; `end` returns the
 * unterminated rest, if any. A trailing `\r` is dropped (CRLF output).
 */
export class LineSplitter {
  private rest = '';

  push(chunk: string): string[] {
    const text = this.rest + chunk;
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    const lines: string[] = [];
    for (const p of parts) lines.push(...cut(p.endsWith('\r') ? p.slice(0, -1) : p));
    while (this.rest.length > MAX_LINE_CHARS) {
      lines.push(this.rest.slice(0, MAX_LINE_CHARS));
      this.rest = this.rest.slice(MAX_LINE_CHARS);
    }
    return lines;
  }

  end(): string[] {
    const r = this.rest;
    this.rest = '';
    return r === '' ? [] : cut(r.endsWith('\r') ? r.slice(0, -1) : r);
  }
}

function cut(line: string): string[] {
  if (line.length <= MAX_LINE_CHARS) return [line];
  const out: string[] = [];
  for (let i = 0; i < line.length; i += MAX_LINE_CHARS) out.push(line.slice(i, i + MAX_LINE_CHARS));
  return out;
}

/**
 * Reads `source` to its end, passing each line to `sink` tagged with `stream`. Resolves when the
 * source has ended (or errored/closed) and every sink promise has settled.
 */
export function pipeLines(source: Readable, stream: LogStream, sink: LineSink): Promise<void> {
  const decoder = new StringDecoder('utf8');
  const splitter = new LineSplitter();
  let waiting: Promise<unknown> = Promise.resolve();

  const deliver = (lines: string[]): Promise<unknown>[] => {
    const pending: Promise<unknown>[] = [];
    for (const l of lines) {
      const r = sink(stream, l);
      if (r) pending.push(r);
    }
    return pending;
  };

  return new Promise<void>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      const pending = deliver([...splitter.push(decoder.end()), ...splitter.end()]);
      void Promise.allSettled([waiting, ...pending]).then(() => resolve());
    };
    source.on('data', (chunk: Buffer | string) => {
      const pending = deliver(splitter.push(typeof chunk === 'string' ? chunk : decoder.write(chunk)));
      if (pending.length > 0) {
        source.pause();
        waiting = Promise.allSettled(pending).then(() => {
          if (!done) source.resume();
        });
      }
    });
    source.once('end', finish);
    source.once('close', finish);
    source.once('error', finish);
  });
}
