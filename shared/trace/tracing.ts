/**
 * Spans and the active trace of this process, on the OpenTelemetry API alone (`@opentelemetry/api`
 * plus its AsyncLocalStorage context manager): this is what the hot paths import. Edges start a
 * span that continues the trace of what they received — `continueTrace(name, traceparent, …)` for
 * an HTTP request, a CloudEvent or a build's config — and inner steps add `inSpan` children; the
 * active trace then reaches every log line (logger.ts), every published event (runtime.ts
 * publisher) and the builder's reports, so one trace id ties a push to its build.
 *
 * The SDK that records and exports spans (sdk.ts) is loaded only when OTEL_EXPORTER_OTLP_ENDPOINT
 * is set (`startTracingIfConfigured`). Without it the API's no-op tracer makes spans that record
 * nothing and just carry their parent's context; an edge with no parent then makes up a trace id
 * of its own, so logs and events carry one whether spans are exported or not. Such a made-up
 * root is flagged sampled: whichever process downstream does export spans records its part.
 */
import { context, isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { formatTraceparent, newSpanId, newTraceId, parseTraceparent } from './traceparent.ts';

/** What a span is to its trace (OpenTelemetry span kinds). */
export type SpanKindName = 'server' | 'client' | 'producer' | 'consumer' | 'internal';

const KINDS: Record<SpanKindName, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  internal: SpanKind.INTERNAL,
};

export interface SpanOptions {
  kind?: SpanKindName;
  /** Span attributes (ids, types, statuses; never secrets). */
  attributes?: Attributes;
}

/** Span attribute naming the function a span belongs to (several share one process locally). */
export const FUNCTION_ATTRIBUTE = 'estafette.function';

let contextManagerSet = false;

/** Context follows async calls only with a context manager; the API has none of its own. */
function ensureContextManager(): void {
  if (contextManagerSet) return;
  contextManagerSet = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

const tracer = () => trace.getTracer('estafette');

async function run<T>(name: string, parent: Context, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  let span = tracer().startSpan(name, { kind: KINDS[options.kind ?? 'internal'], ...(options.attributes ? { attributes: options.attributes } : {}) }, parent);
  // The no-op tracer (tracing off) without a parent gives an invalid context: make up a trace.
  if (!isSpanContextValid(span.spanContext())) span = trace.wrapSpanContext({ traceId: newTraceId(), spanId: newSpanId(), traceFlags: TraceFlags.SAMPLED });
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err instanceof Error ? err.message : String(err)).slice(0, 500) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs `fn` in a new span continuing the trace of `traceparent` (a W3C traceparent: the remote
 * parent), or in a new trace when it is absent or invalid. For edges: what arrives from
 * elsewhere decides the trace, not whatever this process was doing.
 */
export function continueTrace<T>(name: string, traceparent: unknown, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  ensureContextManager();
  const p = parseTraceparent(traceparent);
  const parent = p ? trace.setSpanContext(ROOT_CONTEXT, { traceId: p.traceId, spanId: p.spanId, traceFlags: p.flags, isRemote: true }) : ROOT_CONTEXT;
  return run(name, parent, options, fn);
}

/** Runs `fn` in a child span of the active span (a new trace when there is none). */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  ensureContextManager();
  return run(name, context.active(), options, fn);
}

/** Adds attributes to the active span (a no-op outside one, or with tracing off). */
export function setSpanAttributes(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** The traceparent of the active span, to hand on (events, HTTP requests, a build's config). */
export function currentTraceparent(): string | undefined {
  const sc = trace.getSpanContext(context.active());
  return sc && isSpanContextValid(sc) ? formatTraceparent({ traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags }) : undefined;
}

/** The trace id of the active span (what every log line carries as `traceId`). */
export function currentTraceId(): string | undefined {
  const sc = trace.getSpanContext(context.active());
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}

/** Stops exporting: flushes what is buffered. */
export type StopTracing = () => Promise<void>;

/**
 * Loads the SDK and exports spans by OTLP/HTTP to `endpoint` (OTEL_EXPORTER_OTLP_ENDPOINT) as
 * service `serviceName`; with no endpoint nothing is loaded and nothing is exported.
 */
export async function startTracingIfConfigured(endpoint: string | undefined, serviceName: string): Promise<StopTracing> {
  if (!endpoint) return async () => undefined;
  ensureContextManager();
  const { startTracing } = await import('./sdk.ts');
  return startTracing({ serviceName, endpoint });
}
