/**
 * Wiring of the bus: `createBus(config)` builds the transport a deployment uses, and the
 * interface is re-exported. Static imports on purpose: a dynamic import() of a module that is
 * also imported statically gives a second module instance under mocha + tsx, and then
 * `instanceof ValidationError` fails across them.
 */
import { BrokerBus } from './broker.ts';
import type { Bus } from './bus.ts';
import { connectJetStreamBus } from './jetstream.ts';
import { MemoryBus } from './memory.ts';

export * from './bus.ts';

/** Which transport createBus builds. */
export type BusConfig =
  | { kind: 'jetstream'; url: string; stream?: string; deadLetterStream?: string; subjectPrefix?: string }
  | { kind: 'broker'; sink: string }
  | { kind: 'memory' };

/** The transport for `config` (connected, streams ensured). */
export async function createBus(config: BusConfig): Promise<Bus> {
  switch (config.kind) {
    case 'jetstream':
      return connectJetStreamBus(config);
    case 'broker':
      return new BrokerBus({ sink: config.sink });
    case 'memory':
      return new MemoryBus();
  }
}
