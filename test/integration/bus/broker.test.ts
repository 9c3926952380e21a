import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { type CloudEvent, HTTP } from 'cloudevents';
import { BrokerBus, PublishError } from '../../../shared/bus/broker.ts';
import { createBus } from '../../../shared/bus/index.ts';
import { makeEvent } from '../../../shared/events/make.ts';
import { eventType } from '../../../shared/events/types.ts';
import { describeBus } from './contract.ts';

/** An HTTP server standing in for the Broker ingress: answers `statuses` in turn (then 202). */
async function receiver(statuses: number[] = []) {
  const requests: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 202;
      res.end(res.statusCode >= 400 ? 'nope' : '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/default/broker`;
  return {
    url,
    requests,
    accepted: () => requests.map((r) => HTTP.toEvent({ headers: r.headers as Record<string, string>, body: r.body }) as CloudEvent<unknown>),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describeBus('broker (publish side, HTTP receiver as Broker)', async () => {
  const rx = await receiver();
  const bus = await createBus({ kind: 'broker', sink: rx.url });
  return {
    bus,
    delivers: false,
    arrived: rx.accepted,
    logs: [],
    close: async () => {
      await bus.close();
      await rx.close();
    },
  };
});

describe('bus: broker specifics', () => {
  const event = () => makeEvent('build.cancel', { id: '42' }, { source: '/t' });

  it('POSTs in binary mode: ce-* headers and the JSON data as body', async () => {
    const rx = await receiver();
    try {
      const e = event();
      await new BrokerBus({ sink: rx.url }).publish(e);
      expect(rx.requests).to.have.length(1);
      const [r] = rx.requests;
      expect(r!.headers).to.include({ 'ce-id': e.id, 'ce-type': 'ci.estafette.build.cancel', 'ce-specversion': '1.0', 'ce-source': '/t', 'content-type': 'application/json' });
      expect(JSON.parse(r!.body)).to.deep.equal({ id: '42' });
    } finally {
      await rx.close();
    }
  });

  const cases = [
    { name: 'retries 5xx and 429 until accepted', statuses: [503, 500, 429], ok: true, requests: 4 },
    { name: 'fails at once on 400 without retrying', statuses: [400], ok: false, requests: 1, status: 400, message: /broker rejected ci\.estafette\.build\.cancel .*: HTTP 400 nope/ },
    { name: 'fails at once on 404', statuses: [404], ok: false, requests: 1, status: 404, message: /HTTP 404/ },
    { name: 'gives up after the attempts on persistent 5xx', statuses: [502, 502, 502], ok: false, requests: 3, message: /unreachable .* after 3 attempts: HTTP 502/ },
  ];
  cases.forEach((c) =>
    it(c.name, async () => {
      const rx = await receiver([...c.statuses]);
      try {
        const e = event();
        let err: PublishError | undefined;
        await new BrokerBus({ sink: rx.url, attempts: 3 + (c.ok ? 1 : 0), baseDelayMs: 5 }).publish(e).catch((x: PublishError) => (err = x));
        expect(rx.requests).to.have.length(c.requests);
        // Every attempt carries the same event id, so the Broker can dedupe if it wants.
        expect(new Set(rx.requests.map((r) => r.headers['ce-id']))).to.deep.equal(new Set([e.id]));
        if (c.ok) expect(err).to.equal(undefined);
        else {
          expect(err).to.be.instanceOf(PublishError);
          expect(err!.message).to.match(c.message!);
          expect(err!.status).to.equal(c.status);
        }
      } finally {
        await rx.close();
      }
    }),
  );

  it('retries connection errors and then reports the sink unreachable', async () => {
    const rx = await receiver();
    await rx.close(); // nothing listens on that port any more
    let err: Error | undefined;
    const started = Date.now();
    await new BrokerBus({ sink: rx.url, attempts: 3, baseDelayMs: 20 }).publish(event()).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/unreachable .* after 3 attempts: .*ECONNREFUSED/);
    expect(Date.now() - started).to.be.greaterThanOrEqual(30);
  });

  it('cannot subscribe (Knative Triggers deliver over HTTP) and says so', async () => {
    const bus = new BrokerBus({ sink: 'http://127.0.0.1:1/' });
    let err: Error | undefined;
    await bus.subscribe('x', [eventType('cron.tick')], async () => {}).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/Knative Triggers/);
  });

  it('refuses a sink that is not a URL', () => {
    expect(() => new BrokerBus({ sink: 'not a url' })).to.throw(PublishError, /K_SINK is not a URL/);
  });
});
