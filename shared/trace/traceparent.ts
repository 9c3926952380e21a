/**
 * W3C Trace Context `traceparent` values (https://www.w3.org/TR/trace-context/#traceparent-header):
 * `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`. This is what ties one push to its
 * build across processes that share nothing: the CloudEvents distributed-tracing extension
 * attribute `traceparent` on every event, the `traceparent` HTTP header of the builder's reports
 * and of deliveries to the Knative Broker, and `BuilderConfig.traceparent`. Pure functions; the
 * spans themselves are in tracing.ts.
 */
import { randomBytes } from 'node:crypto';

/** The parts of a traceparent. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero: the span the receiver's work is a child of. */
  spanId: string;
  /** Trace flags; bit 0 = sampled. */
  flags: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZEROS = /^0+$/;

/** The parts of `value`, or undefined when it is not a valid traceparent (then a new trace starts). */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  // Version ff is forbidden; version 00 has nothing after the flags; later versions may add fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ZEROS.test(traceId) || ZEROS.test(spanId)) return undefined;
  return { traceId, spanId, flags: parseInt(flags, 16) };
}

/** The traceparent (version 00) of `parts`. */
export const formatTraceparent = (parts: TraceParent): string => `00-${parts.traceId}-${parts.spanId}-${(parts.flags & 0xff).toString(16).padStart(2, '0')}`;

/** A random trace id (32 hex digits). */
export const newTraceId = (): string => randomBytes(16).toString('hex');

/** A random span id (16 hex digits). */
export const newSpanId = (): string => randomBytes(8).toString('hex');
