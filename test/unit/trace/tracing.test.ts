/**
 * Trace propagation without an exporter (the default: OTEL_EXPORTER_OTLP_ENDPOINT unset): W3C
 * traceparent parsing, edges that continue a received trace or make one up, the publisher
 * stamping every CloudEvent with the active trace, log lines carrying its id — and no function
 * bundle loading the OpenTelemetry SDK before it is asked for.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MemoryBus } from '../../../shared/bus/memory.ts';
import { publisher } from '../../../shared/runtime/runtime.ts';
import { continueTrace, currentTraceId, currentTraceparent, inSpan } from '../../../shared/trace/tracing.ts';
import { formatTraceparent, parseTraceparent } from '../../../shared/trace/traceparent.ts';
import { recordingLogger } from '../../support/logger.ts';

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('traceparent', () => {
  const cases: Array<{ name: string; value: unknown; ok: boolean }> = [
    { name: 'the W3C example', value: PARENT, ok: true },
    { name: 'an unsampled one', value: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00', ok: true },
    { name: 'a later version with more fields', value: '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra', ok: true },
    { name: 'version ff', value: 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', ok: false },
    { name: 'version 00 with more fields', value: `${PARENT}-extra`, ok: false },
    { name: 'an all-zero trace id', value: '00-00000000000000000000000000000000-b7ad6b7169203331-01', ok: false },
    { name: 'an all-zero span id', value: '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', ok: false },
    { name: 'upper-case hex', value: '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01', ok: false },
    { name: 'a short trace id', value: '00-0af7651916cd43dd-b7ad6b7169203331-01', ok: false },
    { name: 'not a string', value: 42, ok: false },
    { name: 'absent', value: undefined, ok: false },
  ];
  cases.forEach((c) =>
    it(`${c.ok ? 'reads' : 'refuses'} ${c.name}`, () => {
      const p = parseTraceparent(c.value);
      if (!c.ok) return expect(p).to.equal(undefined);
      expect(p?.traceId).to.equal('0af7651916cd43dd8448eb211c80319c');
      expect(p?.spanId).to.equal('b7ad6b7169203331');
    }),
  );

  it('formats what it parses', () => {
    expect(formatTraceparent(parseTraceparent(PARENT)!)).to.equal(PARENT);
  });
});

describe('tracing with no exporter', () => {
  it('an edge continues the trace it received', async () => {
    const seen = await continueTrace('edge', PARENT, {}, async () => ({ id: currentTraceId(), tp: currentTraceparent() }));
    expect(seen.id).to.equal('0af7651916cd43dd8448eb211c80319c');
    expect(seen.tp).to.match(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-0[01]$/);
  });

  it('an edge with nothing (or garbage) received makes up a new sampled trace, different each time', async () => {
    const a = await continueTrace('edge', undefined, {}, async () => currentTraceparent());
    const b = await continueTrace('edge', 'not-a-traceparent', {}, async () => currentTraceparent());
    expect(a).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(b).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(parseTraceparent(a)!.traceId).to.not.equal(parseTraceparent(b)!.traceId);
  });

  it('inner spans and awaited work stay in the trace; outside any span there is none', async () => {
    const id = await continueTrace('edge', PARENT, {}, async () => {
      await new Promise((r) => setImmediate(r));
      return inSpan('inner', {}, async () => currentTraceId());
    });
    expect(id).to.equal('0af7651916cd43dd8448eb211c80319c');
    expect(currentTraceId()).to.equal(undefined);
  });

  it('every event published while handling carries the traceparent (CloudEvents distributed-tracing extension)', async () => {
    const bus = new MemoryBus();
    const published: string[] = [];
    const publish = publisher({ publish: async (e) => (published.push(String(e.traceparent)), bus.publish(e)) }, '/test');
    await continueTrace('edge', PARENT, {}, () => publish('build.cancel', { id: '1' }));
    await publish('build.cancel', { id: '2' });
    expect(parseTraceparent(published[0])?.traceId).to.equal('0af7651916cd43dd8448eb211c80319c');
    expect(published[1], 'published outside a trace').to.equal('undefined');
    await bus.close();
  });

  it('a log line written inside a trace carries its traceId; one outside carries none', async () => {
    const records: Array<Record<string, unknown>> = [];
    const log = recordingLogger([], records);
    await continueTrace('edge', PARENT, {}, async () => log.info({ buildId: '7' }, 'inside'));
    log.info('outside');
    expect(records[0]).to.include({ msg: 'inside', buildId: '7', traceId: '0af7651916cd43dd8448eb211c80319c' });
    expect(records[1]).to.not.have.property('traceId');
  });

  it('no function bundle loads the OpenTelemetry SDK at start or behind it: only on demand', () => {
    const report = JSON.parse(readFileSync(fileURLToPath(new URL('../../../dist/bundles.json', import.meta.url)), 'utf8')) as Array<{ bundle: string; lazy: Array<{ phase: string; packages: string[] }> }>;
    const functions = report.filter((b) => b.bundle.startsWith('functions/'));
    expect(functions).to.have.length(5);
    for (const b of functions) {
      const eager = b.lazy.filter((c) => c.phase !== 'on-demand').flatMap((c) => c.packages);
      expect(eager, b.bundle).to.include('@opentelemetry/api');
      expect(
        eager.filter((p) => p.startsWith('@opentelemetry/') && p !== '@opentelemetry/api' && p !== '@opentelemetry/context-async-hooks'),
        b.bundle,
      ).to.deep.equal([]);
    }
  });
});
