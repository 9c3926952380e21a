/**
 * One push traced end to end through the local mode (the same composition roots as Knative): a
 * generic webhook reaches webhook-ingest, its git.push carries a traceparent through the bus to
 * build-dispatch, the BuilderConfig hands it to the builder (a real child process), whose
 * reports carry it back to log-ingest. Every log line those four write for the push, and every
 * span they make, has the same trace id — the functions' spans recorded in memory, the
 * builder's exported by OTLP/HTTP to a collector stand-in — and /metrics counters move as the
 * build runs.
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startSystem, type RunningSystem } from '../../../cli/start/system.ts';
import { triggerRepo } from '../../../cli/start/trigger.ts';
import { startTracing } from '../../../shared/trace/sdk.ts';
import { FUNCTION_ATTRIBUTE } from '../../../shared/trace/tracing.ts';
import { tempRepo, type TempRepo } from '../../support/git-repo.ts';
import { recordingLogger } from '../../support/logger.ts';
import { waitFor } from '../../support/processes.ts';
import { freshDatabase, requireService } from '../../support/services.ts';

const MANIFEST = 'builder:\n  track: dev\nstages:\n  hello:\n    image: alpine\n    commands:\n      - echo hello from the build\n      - echo second line\n';
const TRACED = ['webhook-ingest', 'build-dispatch', 'builder', 'log-ingest'];

/** An OTLP/HTTP (JSON) collector stand-in: the spans of every POST /v1/traces. */
interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
}

type OtlpValue = { stringValue?: string };
type OtlpRequest = { resourceSpans?: Array<{ resource?: { attributes?: Array<{ key: string; value: OtlpValue }> }; scopeSpans?: Array<{ spans?: Array<Record<string, string>> }> }> };

/** OTLP/JSON ids are hex; an encoder that sends them base64 is read too. */
const hexId = (id: string | undefined): string => (!id ? '' : /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex'));

function collector(): { server: Server; spans: CollectedSpan[] } {
  const spans: CollectedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) return res.writeHead(415).end();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpRequest;
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) spans.push({ service, traceId: hexId(s.traceId), spanId: hexId(s.spanId), parentSpanId: hexId(s.parentSpanId), name: s.name ?? '' });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { server, spans };
}

/** The value of one series in Prometheus text (0 when absent). */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const have = (m[1] ?? '').split(',');
    if (want.every((w) => have.includes(w))) return Number(m[2]);
  }
  return 0;
}

describe('a push traced end to end', function () {
  this.timeout(120_000);
  let drop: () => Promise<void> = async () => {};
  let system: RunningSystem | undefined;
  let repo: TempRepo;
  const otlp = collector();
  const memory = new InMemorySpanExporter();
  const records: Array<Record<string, unknown>> = [];
  let metricsBefore = '';
  let metricsAfter = '';
  let traceId = '';
  let pushedAt = 0;
  let buildId = '';

  before(async function () {
    const server = await requireService(this, 'postgres');
    const db = await freshDatabase(server, 'trace');
    drop = db.drop;
    await new Promise<void>((r) => otlp.server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(otlp.server.address() as { port: number }).port}`;
    repo = tempRepo('traced', 'main', 'estafette');
    repo.commit({ '.estafette.yaml': MANIFEST }, 'a traced push');

    system = await startSystem({
      executor: 'host',
      log: recordingLogger([], records),
      env: {
        ...process.env,
        NATS_URL: undefined,
        K_SINK: undefined,
        DATABASE_URL: db.url,
        PORT: '0',
        ESTAFETTE_STATE_DIR: mkdtempSync(join(tmpdir(), 'estafette-trace-')),
        ESTAFETTE_CRON_INTERVAL_MS: String(24 * 3600_000),
        // The builders (child processes) export to the collector; this process records in memory.
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      },
      startTracing: async () => startTracing({ serviceName: 'estafette', exporter: memory }),
    });
    metricsBefore = await (await fetch(`${system.url}/metrics`)).text();

    pushedAt = records.length;
    await triggerRepo(system.url, system.webhookToken, repo.dir, 'main');
    const pool = system.pool;
    const build = await waitFor(
      'the build to succeed',
      async () => (await pool.query<{ id: string; status: string }>("SELECT id::TEXT AS id, status FROM builds WHERE status IN ('succeeded', 'failed')")).rows[0],
      90_000,
      100,
    );
    expect(build.status, records.map((r) => r.msg).join('\n')).to.equal('succeeded');
    buildId = build.id;
    // The builder flushes its spans before it exits.
    await system.runner.waitFor({ kind: 'build', id: buildId, repoOwner: 'estafette', repoName: 'traced' });
    await waitFor(
      'the builder build.finished event to be handled',
      async () =>
        metric(await (await fetch(`${system!.url}/metrics`)).text(), 'estafette_events_handled_total', { function: 'build-dispatch', type: 'ci.estafette.build.finished' }) >
        metric(metricsBefore, 'estafette_events_handled_total', { function: 'build-dispatch', type: 'ci.estafette.build.finished' }),
      15_000,
    );
    metricsAfter = await (await fetch(`${system.url}/metrics`)).text();
    const webhookSpan = memory.getFinishedSpans().find((s) => s.attributes[FUNCTION_ATTRIBUTE] === 'webhook-ingest');
    traceId = webhookSpan?.spanContext().traceId ?? '';
  });

  after(async () => {
    await system?.stop();
    otlp.server.close();
    repo?.remove();
    await drop();
  });

  const linesOf = (fn: string) => records.slice(pushedAt).filter((r) => r.function === fn);
  const spansOf = (fn: string): ReadableSpan[] => memory.getFinishedSpans().filter((s) => s.attributes[FUNCTION_ATTRIBUTE] === fn);

  it('webhook-ingest starts the trace', () => {
    expect(traceId).to.match(/^[0-9a-f]{32}$/);
  });

  TRACED.forEach((fn) =>
    it(`every log line ${fn} wrote for the push carries its trace id`, () => {
      const lines = linesOf(fn);
      expect(lines, `no log line of ${fn}`).to.not.be.empty;
      for (const l of lines) expect(l.traceId, `${fn}: ${String(l.msg)}`).to.equal(traceId);
    }),
  );

  ['webhook-ingest', 'build-dispatch', 'log-ingest'].forEach((fn) =>
    it(`every span of ${fn} is in the push's trace`, () => {
      const spans = spansOf(fn);
      expect(spans, `no span of ${fn}`).to.not.be.empty;
      for (const s of spans) expect(s.spanContext().traceId, `${fn}: ${s.name}`).to.equal(traceId);
    }),
  );

  it("the builder's spans, exported by OTLP, are in the push's trace, under build-dispatch's span", () => {
    const spans = otlp.spans.filter((s) => s.service === 'builder');
    expect(spans.map((s) => s.name)).to.include.members(['stage hello']);
    for (const s of spans) expect(s.traceId, s.name).to.equal(traceId);
    const root = spans.find((s) => s.name.startsWith('build '));
    expect(root, 'the builder span').to.exist;
    const dispatchSpans = spansOf('build-dispatch').map((s) => s.spanContext().spanId);
    expect(dispatchSpans).to.include(root!.parentSpanId);
  });

  it('every line about the build names it and the trace, from the dispatch to the final status', () => {
    const about = records.slice(pushedAt).filter((r) => r.buildId === buildId);
    expect(about.map((r) => r.function)).to.include.members(['build-dispatch', 'builder', 'log-ingest']);
    for (const r of about) expect(r.traceId, String(r.msg)).to.equal(traceId);
  });

  const moved: Array<{ name: string; labels: Record<string, string>; by: number | 'some' }> = [
    { name: 'estafette_webhooks_received_total', labels: { forge: 'generic' }, by: 1 },
    { name: 'estafette_events_handled_total', labels: { function: 'build-dispatch', type: 'ci.estafette.git.push' }, by: 1 },
    { name: 'estafette_builds_started_total', labels: { kind: 'build' }, by: 1 },
    { name: 'estafette_build_queue_wait_seconds_count', labels: { kind: 'build' }, by: 1 },
    { name: 'estafette_builds_finished_total', labels: { kind: 'build', status: 'succeeded' }, by: 1 },
    { name: 'estafette_build_duration_seconds_count', labels: { kind: 'build', status: 'succeeded' }, by: 1 },
    { name: 'estafette_log_lines_ingested_total', labels: { kind: 'build' }, by: 'some' },
    { name: 'estafette_log_bytes_ingested_total', labels: { kind: 'build' }, by: 'some' },
  ];
  moved.forEach((m) =>
    it(`/metrics: ${m.name}${JSON.stringify(m.labels)} moved ${m.by === 'some' ? 'up' : `by ${m.by}`} during the build`, () => {
      const delta = metric(metricsAfter, m.name, m.labels) - metric(metricsBefore, m.name, m.labels);
      if (m.by === 'some') expect(delta).to.be.greaterThan(0);
      else expect(delta).to.equal(m.by);
    }),
  );

  it('/metrics is Prometheus text with the process metrics', () => {
    expect(metricsAfter).to.match(/^# HELP estafette_webhooks_received_total /m);
    expect(metricsAfter).to.match(/^process_cpu_seconds_total /m);
  });
});
