/**
 * The OpenTelemetry SDK half of tracing, imported only by `startTracingIfConfigured` when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (so a function with tracing off never loads it and its
 * bundle keeps it in a lazy chunk): a tracer provider for this process whose spans go by
 * OTLP/HTTP to `<endpoint>/v1/traces` in batches — or, for tests, to the exporter given.
 */
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { StopTracing } from './tracing.ts';

export interface TracingOptions {
  /** `service.name` of the spans: the function (or `builder`, or `estafette` for the local mode). */
  serviceName: string;
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); `/v1/traces` is appended. */
  endpoint?: string;
  /** Export to this instead, span by span (tests: an InMemorySpanExporter). */
  exporter?: SpanExporter;
}

/** Registers the process's tracer provider; the returned function flushes and unregisters it. */
export function startTracing(options: TracingOptions): StopTracing {
  if (!options.exporter && !options.endpoint) throw new Error('startTracing needs an endpoint or an exporter');
  const processor = options.exporter ? new SimpleSpanProcessor(options.exporter) : new BatchSpanProcessor(new OTLPTraceExporter({ url: `${options.endpoint!.replace(/\/+$/, '')}/v1/traces` }));
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': options.serviceName }), spanProcessors: [processor] });
  // One provider per process: a second start (tests) replaces the first.
  trace.disable();
  trace.setGlobalTracerProvider(provider);
  return async () => {
    await provider.shutdown().catch(() => undefined);
    trace.disable();
  };
}
