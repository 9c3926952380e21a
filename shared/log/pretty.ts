/**
 * Human-readable log lines for a terminal (`estafette start`): pino-pretty used as a synchronous
 * stream, so lines appear in order with the CLI's own output and no worker thread is started.
 * Kept apart from logger.ts so the functions' bundles never load it.
 */
import pretty from 'pino-pretty';
import type { DestinationStream } from 'pino';

/** `12:01:02 INFO [build-dispatch] build started buildId=…` on stdout (colours on a TTY). */
export function prettyDestination(colorize = process.stdout.isTTY === true): DestinationStream {
  return pretty({
    colorize,
    sync: true,
    translateTime: 'HH:MM:ss',
    ignore: 'pid,hostname,function',
    messageFormat: '{if function}[{function}] {end}{msg}',
    singleLine: true,
  });
}
