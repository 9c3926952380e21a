/**
 * A function on Knative (K_SERVICE set) publishes only to the Broker at K_SINK: until the
 * SinkBinding has injected it, its bus is not ready (so /readiness answers 503 and Knative sends it
 * no traffic) instead of publishing into a JetStream stream that nothing on Knative reads.
 */
import { expect } from 'chai';
import { parseConfig } from '../../shared/config/config.ts';
import { Runtime } from '../../shared/runtime/runtime.ts';
import { silentLogger } from '../support/logger.ts';

const base = { ESTAFETTE_AUTH: 'off', NATS_URL: 'nats://127.0.0.1:1' };
const cases: Array<{ name: string; env: Record<string, string>; ready: boolean; reason?: RegExp }> = [
  { name: 'on Knative without K_SINK', env: { ...base, K_SERVICE: 'webhook-ingest' }, ready: false, reason: /K_SINK is not set/ },
  { name: 'on Knative with K_SINK', env: { ...base, K_SERVICE: 'webhook-ingest', K_SINK: 'http://broker-ingress.example/estafette/estafette' }, ready: true },
  { name: 'outside Knative, in-memory bus', env: { ESTAFETTE_AUTH: 'off' }, ready: true },
];

describe('Runtime.busReady on Knative', () => {
  cases.forEach((c) =>
    it(`${c.name}: ${c.ready ? 'ready' : 'not ready'}`, async () => {
      const runtime = new Runtime(parseConfig(c.env), silentLogger);
      try {
        const r = await runtime.busReady();
        expect(r.ok).to.equal(c.ready);
        if (!r.ok && c.reason) expect(r.reason).to.match(c.reason);
      } finally {
        await runtime.close();
      }
    }),
  );
});
