import { expect } from 'chai';
import { connect } from 'nats';
import { connectJetStreamBus } from '../../../shared/bus/jetstream.ts';
import { durableName } from '../../../shared/bus/names.ts';
import { makeEvent } from '../../../shared/events/make.ts';
import { eventType } from '../../../shared/events/types.ts';
import { requireService, uniqueName } from '../../support/services.ts';
import { describeBus, until } from './contract.ts';
import { recordingLogger } from '../../support/logger.ts';

/** A bus on the real NATS server under unique stream and subject names; close() deletes them. */
async function jetstreamBus(ctx: Mocha.Context) {
  const url = await requireService(ctx, 'nats');
  const name = uniqueName('BUS');
  const logs: string[] = [];
  const names = { stream: `${name}_EV`, deadLetterStream: `${name}_DLQ`, subjectPrefix: `${name}.` };
  const bus = await connectJetStreamBus({ url, ...names, log: recordingLogger(logs) });
  return {
    bus,
    delivers: true,
    logs,
    url,
    names,
    close: async () => {
      await bus.close();
      const nc = await connect({ servers: url });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(names.stream).catch(() => {});
      await jsm.streams.delete(names.deadLetterStream).catch(() => {});
      await nc.close();
    },
  };
}

describeBus('jetstream', jetstreamBus);

describe('bus: jetstream specifics', function () {
  this.timeout(20_000);
  let h: Awaited<ReturnType<typeof jetstreamBus>>;
  beforeEach(async function () {
    h = await jetstreamBus(this);
  });
  afterEach(async () => h?.close());

  it('stores events under subject = type with the id as Nats-Msg-Id, and one durable per (consumer, type)', async () => {
    const e = makeEvent('cron.tick', { time: '2026-01-01T00:00:00Z' }, { source: '/t' });
    await h.bus.publish(e);
    await h.bus.publish(e);
    const nc = await connect({ servers: h.url });
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.streams.info(h.names.stream);
      expect(info.state.messages).to.equal(1);
      const sm = await jsm.streams.getMessage(h.names.stream, { seq: info.state.first_seq });
      expect(sm.subject).to.equal(`${h.names.subjectPrefix}ci.estafette.cron.tick`);
      expect(sm.header.get('Nats-Msg-Id')).to.equal(e.id);
      expect(JSON.parse(new TextDecoder().decode(sm.data)).id).to.equal(e.id);

      const seen: string[] = [];
      const sub = await h.bus.subscribe('cron-relay', [eventType('cron.tick'), eventType('build.finished')], async (ev) => {
        seen.push(ev.id);
      });
      await until(() => seen.length === 1, 5000, 'delivery');
      await sub.stop();
      const durables = [];
      for await (const c of jsm.consumers.list(h.names.stream)) durables.push(c.name);
      expect(durables.sort()).to.deep.equal([durableName('cron-relay', 'ci.estafette.build.finished'), durableName('cron-relay', 'ci.estafette.cron.tick')]);
    } finally {
      await nc.close();
    }
  });

  it('a second bus instance (another process) resumes the same durable consumer', async () => {
    const seen: string[] = [];
    const sub = await h.bus.subscribe('resume', [eventType('cron.tick')], async (ev) => {
      seen.push(ev.id);
    });
    const e1 = makeEvent('cron.tick', { time: '2026-01-01T00:01:00Z' }, { source: '/t' });
    await h.bus.publish(e1);
    await until(() => seen.length === 1, 5000, 'first');
    await sub.stop();
    const e2 = makeEvent('cron.tick', { time: '2026-01-01T00:02:00Z' }, { source: '/t' });
    await h.bus.publish(e2);
    const other = await connectJetStreamBus({ url: h.url, ...h.names });
    try {
      const later: string[] = [];
      await other.subscribe('resume', [eventType('cron.tick')], async (ev) => {
        later.push(ev.id);
      });
      await until(() => later.length === 1, 5000, 'resumed');
      await new Promise((r) => setTimeout(r, 100));
      expect(later).to.deep.equal([e2.id]);
    } finally {
      await other.close();
    }
  });

  it('redelivers to another instance when the one handling an event dies without acking', async () => {
    const opts = { ackWaitMs: 1000, backoffMs: [10] };
    const doomedConnection = await connect({ servers: h.url });
    const doomed = await connectJetStreamBus({ connection: doomedConnection, ...h.names });
    let doomedGot = 0;
    await doomed.subscribe(
      'crashy',
      [eventType('cron.tick')],
      () => {
        doomedGot++;
        return new Promise<void>(() => {}); // never finishes: the process "hangs" then dies
      },
      opts,
    );
    const e = makeEvent('cron.tick', { time: '2026-01-01T00:03:00Z' }, { source: '/t' });
    await h.bus.publish(e);
    await until(() => doomedGot === 1, 5000, 'first delivery');
    await doomedConnection.close(); // the process dies: no ack, no nak
    const attempts: number[] = [];
    await h.bus.subscribe(
      'crashy',
      [eventType('cron.tick')],
      async (ev, d) => {
        if (ev.id === e.id) attempts.push(d.attempt);
      },
      opts,
    );
    await until(() => attempts.length === 1, 8000, 'redelivery after ack wait');
    expect(attempts).to.deep.equal([2]);
  });

  it('a live handler slower than the ack wait keeps its event (working() heartbeats): no second instance gets it', async () => {
    const attempts: number[] = [];
    let finished = 0;
    const slow = async (_ev: unknown, d: { attempt: number }) => {
      attempts.push(d.attempt);
      await new Promise((r) => setTimeout(r, 2500));
      finished++;
    };
    const other = await connectJetStreamBus({ url: h.url, ...h.names });
    try {
      // Two instances of one consuming function, as when it is scaled out.
      await h.bus.subscribe('slow', [eventType('cron.tick')], slow, { ackWaitMs: 1000 });
      await other.subscribe('slow', [eventType('cron.tick')], slow, { ackWaitMs: 1000 });
      await h.bus.publish(makeEvent('cron.tick', { time: '2026-01-01T00:04:00Z' }, { source: '/t' }));
      await until(() => finished >= 1, 6000, 'slow handler');
      await new Promise((r) => setTimeout(r, 1500));
      expect(attempts).to.deep.equal([1]);
    } finally {
      await other.close();
    }
  });

  it('reports an unreachable server in one line without credentials', async () => {
    let err: Error | undefined;
    await connectJetStreamBus({ url: 'nats://user:secret@127.0.0.1:1' }).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/^cannot connect to NATS at nats:\/\/\*\*\*@127\.0\.0\.1:1/);
    expect(err?.message).not.to.include('secret');
  });
});
