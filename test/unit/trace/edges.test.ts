/**
 * The observing edges one by one: a CloudEvent delivered over HTTP is handled inside the trace of
 * its `ce-traceparent` and counted handled or failed; a refused webhook is counted with its
 * reason; a forge API failure is one log line with its ids and cause, and counted; a dead letter
 * is one log line with the event's ids, cause and trace, and counted.
 */
import { expect } from 'chai';
import { HTTP } from 'cloudevents';
import { MemoryBus } from '../../../shared/bus/memory.ts';
import { makeEvent } from '../../../shared/events/make.ts';
import { cloudEventEndpoint } from '../../../shared/http/cloudevent-endpoint.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { metricsText } from '../../../shared/metrics/metrics.ts';
import { observedScm } from '../../../shared/scm/observed.ts';
import { ScmError, type ScmProvider } from '../../../shared/scm/provider.ts';
import { currentTraceId } from '../../../shared/trace/tracing.ts';
import { makeHandler as webhookHandler } from '../../../functions/webhook-ingest/handler.ts';
import { recordingLogger, silentLogger } from '../../support/logger.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = `00-${TRACE}-00f067aa0ba902b7-01`;

/** The value of one series of this process's registry (0 when absent). */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of (await metricsText()).split('\n')) {
    const m = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (m && want.every((w) => m[1]!.split(',').includes(w))) return Number(m[2]);
  }
  return 0;
}

const request = (path: string, headers: Record<string, string>, body: string): HttpRequest => ({
  method: 'POST',
  path,
  query: new URLSearchParams(),
  headers,
  rawBody: Buffer.from(body),
  signal: new AbortController().signal,
});

/** Lets queued callbacks run until `done` holds (no fixed sleep). */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 10_000 && !(await done()); i++) await new Promise((r) => setImmediate(r));
}

describe('observing edges', () => {
  const delivery = (data: unknown) => {
    const msg = HTTP.binary(makeEvent('build.cancel', data as { id: string }, { source: '/test', traceparent: PARENT }));
    return request('/', msg.headers as Record<string, string>, msg.body as string);
  };

  it("a CloudEvent over HTTP is handled in its ce-traceparent's trace and counted handled", async () => {
    let seen: string | undefined;
    const endpoint = cloudEventEndpoint(async () => void (seen = currentTraceId()), { consumer: 'edge-ok' });
    const before = await metric('estafette_events_handled_total', { function: 'edge-ok', type: 'ci.estafette.build.cancel' });
    const res = await endpoint(delivery({ id: '1' }));
    expect(res.status).to.equal(202);
    expect(seen).to.equal(TRACE);
    expect(await metric('estafette_events_handled_total', { function: 'edge-ok', type: 'ci.estafette.build.cancel' })).to.equal(before + 1);
  });

  it('a CloudEvent whose handler fails is counted failed (and the failure reaches the host: 500, redelivered)', async () => {
    const endpoint = cloudEventEndpoint(async () => Promise.reject(new Error('database down')), { consumer: 'edge-fail' });
    await endpoint(delivery({ id: '1' })).then(
      () => expect.fail('should fail'),
      (err: Error) => expect(err.message).to.equal('database down'),
    );
    expect(await metric('estafette_events_failed_total', { function: 'edge-fail', type: 'ci.estafette.build.cancel' })).to.equal(1);
  });

  it('a webhook for a forge without a secret is counted received and rejected as not_configured', async () => {
    const handle = webhookHandler({ secrets: {}, publish: async () => ({ duplicate: false }), forkPullRequests: 'build', maxBodyBytes: 1000, log: silentLogger });
    const before = await metric('estafette_webhooks_rejected_total', { forge: 'gitea', reason: 'not_configured' });
    await handle(request('/api/integrations/gitea/events', {}, '{}')).catch(() => undefined);
    expect(await metric('estafette_webhooks_rejected_total', { forge: 'gitea', reason: 'not_configured' })).to.equal(before + 1);
    expect(await metric('estafette_webhooks_received_total', { forge: 'gitea' })).to.be.greaterThan(0);
  });

  it('a forge API failure is one log line with the repository, revision, status and cause, and counted', async () => {
    const records: Array<Record<string, unknown>> = [];
    const failing: ScmProvider = { name: 'github', getManifest: async () => Promise.reject(new ScmError('github', 502, 'GET manifest answered 502')) };
    const scm = observedScm(failing, recordingLogger([], records));
    const repo = { repoSource: 'github.com', repoOwner: 'o', repoName: 'r', cloneUrl: 'https://github.com/o/r.git' };
    await scm.getManifest(repo, 'abc123').catch(() => undefined);
    expect(records).to.have.length(1);
    expect(records[0]).to.include({ level: 'warn', pipeline: 'github.com/o/r', revision: 'abc123', provider: 'github', operation: 'getManifest', status: 502, cause: 'github: GET manifest answered 502' });
    expect(await metric('estafette_forge_api_failures_total', { provider: 'github', operation: 'getManifest', status: '502' })).to.equal(1);
    const working: ScmProvider = { name: 'github', getManifest: async () => 'stages: {}' };
    const ok = observedScm(working, recordingLogger([], records));
    expect(await ok.getManifest(repo, 'abc123')).to.equal('stages: {}');
    expect(records, 'nothing logged for a call that worked').to.have.length(1);
  });

  it('a dead letter is one log line with the event, its cause and its trace, and counted', async () => {
    const records: Array<Record<string, unknown>> = [];
    const bus = new MemoryBus({ log: recordingLogger([], records) });
    await bus.subscribe('edge-dlq', ['ci.estafette.build.cancel'], async () => Promise.reject(new Error('cannot cancel')), { maxDeliveries: 1 });
    const event = makeEvent('build.cancel', { id: '9' }, { source: '/test', traceparent: PARENT });
    await bus.publish(event);
    await until(async () => (await bus.deadLetters()).length > 0);
    await bus.close();
    expect(records).to.have.length(1);
    expect(records[0]).to.include({ level: 'error', eventId: event.id, eventType: 'ci.estafette.build.cancel', consumer: 'edge-dlq', error: 'cannot cancel', traceId: TRACE });
    expect(await metric('estafette_events_dead_lettered_total', { consumer: 'edge-dlq', type: 'ci.estafette.build.cancel' })).to.equal(1);
  });
});
