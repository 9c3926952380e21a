/**
 * The one logger of every process (functions, builder, CLI): pino, one JSON line per event with
 * `level`, `time`, `msg`, `function` and whichever ids apply (`eventId`, `eventType`, `buildId`,
 * `releaseId`, `pipeline`, `deliveryId`, `traceId`), so an operator can follow one push across
 * functions that scale to zero and leave nothing but their logs. Call sites pass ids as fields —
 * `log.info({ buildId }, 'build started')` — and derive per-request loggers with `child`.
 * A line written while a trace is active (handling an event or a request, running a build) gets
 * that trace's `traceId` by itself (a pino mixin reading the active span, shared/trace/tracing.ts),
 * so per-request loggers need not be threaded through every call.
 * `estafette start` on a terminal gets human-readable lines instead (pretty.ts).
 * Values under credential-like keys are replaced by `[redacted]`; URLs go through `safeUrl`.
 */
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import { currentTraceId } from '../trace/tracing.ts';

/** A structured logger: `log.info({ buildId }, 'message')`, `log.child({ function })`. */
export type Logger = PinoLogger;

export interface LoggerOptions {
  /** Bound to every line as `function`. */
  name?: string;
  /** pino level (default `info`; `LOG_LEVEL` is parsed by the config). */
  level?: string;
  /** Where lines go (default stdout; prettyDestination() for a terminal). */
  destination?: DestinationStream;
}

// Keys whose values never reach a log line, wherever they appear in a logged object.
const SECRET_KEYS = ['token', 'password', 'secret', 'secretKey', 'jwtKey', 'authorization', 'cookie', 'privateKey', 'clientSecret'];
const REDACT_PATHS = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`), 'headers.authorization', 'headers.cookie'];

/** `traceId` of the active trace, on every line written inside one. */
const traceFields = (): { traceId?: string } => {
  const traceId = currentTraceId();
  return traceId ? { traceId } : {};
};

/** A logger writing to stdout (or `destination`). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const base = options.name ? { function: options.name } : {};
  const opts = {
    level: options.level ?? 'info',
    base,
    messageKey: 'msg',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    mixin: traceFields,
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // Synchronous writes to stdout by default: a line is out before a crash or exit can lose it.
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** A URL safe to print: user info (credentials) replaced by `***`. */
export const safeUrl = (url: string): string => url.replace(/\/\/[^@/\s]*@/g, '//***@');

/** The message of a thrown value on one line, bounded. */
export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').slice(0, 1000);
