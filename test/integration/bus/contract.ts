/**
 * The contract every Bus transport passes (see shared/bus/bus.ts). `describeBus(name, factory)`
 * runs it against a fresh bus per test. Cases marked "delivering" need subscribe (jetstream,
 * memory); the publish-side cases also run against publish-only transports (broker), whose
 * harness reports what arrived at the far side (an HTTP receiver standing in for the Broker).
 *
 *   case                                   jetstream  memory  broker
 *   attributes and data intact                 ✓        ✓       ✓
 *   order of publication per type              ✓        ✓       ✓
 *   foreign types refused at publish           ✓        ✓       ✓
 *   types filter, fan-out per consumer         ✓        ✓       –  (Knative Trigger filters)
 *   redelivery after a throw                   ✓        ✓       –  (Trigger delivery.retry)
 *   dead letter after N failures               ✓        ✓       –  (Trigger deadLetterSink)
 *   dedupe of a re-published id                ✓        ✓       –  (not offered by Brokers)
 *   offline consumer catches up                ✓        ✓       –  (Broker/channel persistence)
 */
import { expect } from 'chai';
import { CloudEvent } from 'cloudevents';
import type { Bus, Delivery, SubscribeOptions } from '../../../shared/bus/bus.ts';
import { ValidationError } from '../../../shared/errors/http-error.ts';
import { makeEvent } from '../../../shared/events/make.ts';
import { eventType, type EventType } from '../../../shared/events/types.ts';

/** A bus under test and what the suite needs to observe it. */
export interface BusHarness {
  bus: Bus;
  /** False for publish-only transports. */
  delivers: boolean;
  /** Publish-only transports: the events that reached the far side, in arrival order. */
  arrived?: () => CloudEvent<unknown>[];
  /** Lines the bus logged (dead letters). */
  logs: string[];
  close(): Promise<void>;
}

/** Polls `cond` until true or fails after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const repo = { repoSource: 'github.com', repoOwner: 'contract', repoName: 'bus' };
const requested = (i: number, id?: string) =>
  makeEvent('build.requested', { ...repo, branch: `b${i}`, trigger: { event: 'manual', fields: {} }, chainDepth: i }, { source: '/test', subject: `s${i}`, ...(id ? { id } : {}) });
const tick = (time: string) => makeEvent('cron.tick', { time }, { source: '/test' });
const REQUESTED = eventType('build.requested');
const TICK = eventType('cron.tick');
const FAST: SubscribeOptions = { backoffMs: [30], maxDeliveries: 5 };

interface Seen {
  event: CloudEvent<unknown>;
  attempt: number;
}

/** Subscribes and records deliveries; `fail` decides which deliveries throw. */
async function record(bus: Bus, consumer: string, types: EventType[], opts: SubscribeOptions = FAST, fail: (e: CloudEvent<unknown>, d: Delivery) => boolean = () => false) {
  const seen: Seen[] = [];
  const sub = await bus.subscribe(
    consumer,
    types,
    async (event, delivery) => {
      seen.push({ event, attempt: delivery.attempt });
      if (fail(event, delivery)) throw new Error(`boom on ${event.id} attempt ${delivery.attempt}`);
    },
    opts,
  );
  return { seen, sub, ids: () => seen.map((s) => s.event.id) };
}

/** Runs the bus contract against transports made by `factory` (one fresh bus per test). */
export function describeBus(name: string, factory: (ctx: Mocha.Context) => Promise<BusHarness>): void {
  describe(`bus contract: ${name}`, function () {
    this.timeout(20_000);
    let h: BusHarness;
    beforeEach(async function () {
      h = await factory(this);
    });
    afterEach(async () => {
      await h?.close();
    });

    /** Events as seen by the far side: through a subscription, or what arrived at the receiver. */
    async function observe(types: EventType[], n: number, publish: () => Promise<void>): Promise<CloudEvent<unknown>[]> {
      if (h.delivers) {
        const r = await record(h.bus, 'observer', types);
        await publish();
        await until(() => r.seen.length >= n, 5000, `${n} deliveries`);
        return r.seen.map((s) => s.event);
      }
      await publish();
      await until(() => h.arrived!().length >= n, 5000, `${n} arrivals`);
      return h.arrived!();
    }

    it('delivers attributes and data intact', async () => {
      const sent = requested(7);
      const [got] = await observe([REQUESTED], 1, async () => void (await h.bus.publish(sent)));
      expect(got).to.deep.include({ id: sent.id, type: sent.type, source: '/test', subject: 's7', specversion: '1.0' });
      expect(got!.data).to.deep.equal(sent.data);
    });

    it('keeps the order of publication per type', async () => {
      const sent = Array.from({ length: 20 }, (_, i) => requested(i));
      const got = await observe([REQUESTED], 20, async () => {
        for (const e of sent) await h.bus.publish(e);
      });
      expect(got.map((e) => e.id)).to.deep.equal(sent.map((e) => e.id));
    });

    it('refuses to publish events of foreign types', async () => {
      const foreign = new CloudEvent({ type: 'com.example.thing', source: '/x', data: {} });
      let err: unknown;
      await h.bus.publish(foreign).catch((e) => (err = e));
      expect(err).to.be.instanceOf(ValidationError);
    });

    describe('delivering transports', () => {
      beforeEach(function () {
        if (!h.delivers) this.skip();
      });

      it('delivers only the subscribed types, to every consumer name', async () => {
        const a = await record(h.bus, 'only-requested', [REQUESTED]);
        const b = await record(h.bus, 'both', [REQUESTED, TICK]);
        const e1 = requested(1);
        const e2 = tick('2026-01-01T00:00:00Z');
        await h.bus.publish(e1);
        await h.bus.publish(e2);
        await until(() => b.seen.length === 2 && a.seen.length === 1, 5000, 'fan-out');
        await new Promise((r) => setTimeout(r, 100));
        expect(a.ids()).to.deep.equal([e1.id]);
        expect(b.ids()).to.have.members([e1.id, e2.id]);
      });

      it('redelivers an event whose handler threw (at least once)', async () => {
        const bad = requested(1);
        const good = requested(2);
        const r = await record(h.bus, 'retrying', [REQUESTED], FAST, (e, d) => e.id === bad.id && d.attempt === 1);
        await h.bus.publish(bad);
        await h.bus.publish(good);
        await until(() => r.seen.filter((s) => s.event.id === bad.id).length === 2 && r.ids().includes(good.id), 5000, 'redelivery');
        await new Promise((r) => setTimeout(r, 150));
        expect(r.seen.filter((s) => s.event.id === bad.id).map((s) => s.attempt)).to.deep.equal([1, 2]);
        expect(r.seen.filter((s) => s.event.id === good.id).map((s) => s.attempt)).to.deep.equal([1]);
        expect(await h.bus.deadLetters('retrying')).to.deep.equal([]);
      });

      it('dead-letters an event after maxDeliveries failures, with the error, and carries on', async () => {
        const bad = requested(1);
        const good = requested(2);
        const r = await record(h.bus, 'dlq-test', [REQUESTED], { backoffMs: [20], maxDeliveries: 3 }, (e) => e.id === bad.id);
        await h.bus.publish(bad);
        await h.bus.publish(good);
        await until(() => h.logs.some((l) => l.includes(bad.id)), 5000, 'dead letter');
        await new Promise((r) => setTimeout(r, 200));
        expect(r.seen.filter((s) => s.event.id === bad.id).map((s) => s.attempt)).to.deep.equal([1, 2, 3]);
        expect(r.ids()).to.include(good.id);
        const letters = await h.bus.deadLetters('dlq-test');
        expect(letters).to.have.length(1);
        expect(letters[0]).to.include({ consumer: 'dlq-test', deliveries: 3 });
        expect(letters[0]!.error).to.equal(`boom on ${bad.id} attempt 3`);
        expect(letters[0]!.event.id).to.equal(bad.id);
        expect(letters[0]!.event.data).to.deep.equal(bad.data);
        expect(await h.bus.deadLetters('other')).to.deep.equal([]);
        expect(h.logs.filter((l) => l.includes(bad.id))).to.have.length(1);
        expect(h.logs[0]).to.match(/dead-lettered ci\.estafette\.build\.requested .* for dlq-test after 3 deliveries: boom/);
      });

      it('drops a re-published event id within the duplicate window', async () => {
        const e = requested(1);
        const marker = requested(2);
        const r = await record(h.bus, 'dedupe', [REQUESTED]);
        await h.bus.publish(e);
        await h.bus.publish(e);
        await h.bus.publish(new CloudEvent({ ...(e.toJSON() as ConstructorParameters<typeof CloudEvent>[0]), data: { changed: true } }));
        await h.bus.publish(marker);
        await until(() => r.ids().includes(marker.id), 5000, 'marker');
        await new Promise((r) => setTimeout(r, 100));
        expect(r.ids()).to.deep.equal([e.id, marker.id]);
      });

      it('a consumer that was offline receives what was published meanwhile, and nothing twice', async () => {
        const first = await record(h.bus, 'offline', [REQUESTED]);
        const e1 = requested(1);
        await h.bus.publish(e1);
        await until(() => first.seen.length === 1, 5000, 'first delivery');
        await first.sub.stop();
        const meanwhile = [requested(2), requested(3), requested(4)];
        for (const e of meanwhile) await h.bus.publish(e);
        await new Promise((r) => setTimeout(r, 100));
        expect(first.seen).to.have.length(1);
        const second = await record(h.bus, 'offline', [REQUESTED]);
        await until(() => second.seen.length === 3, 5000, 'catch-up');
        await new Promise((r) => setTimeout(r, 100));
        expect(second.ids()).to.deep.equal(meanwhile.map((e) => e.id));
      });

      it('refuses consumer names that cannot name a durable', async () => {
        let err: unknown;
        await h.bus.subscribe('bad.name', [REQUESTED], async () => {}).catch((e) => (err = e));
        expect(err).to.be.instanceOf(ValidationError);
      });
    });
  });
}
