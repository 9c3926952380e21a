/**
 * Wiring of the bus: `createBus(config)` builds the transport a deployment uses, and the
 * interface is re-exported. Static imports on purpose: a dynamic import() of a module that is
 * also imported statically gives a second module instance under mocha + tsx, and then
 * `instanceof ValidationError` fails across them.
 */
import type { NatsConnection } from 'nats';
import type { Logger } from '../log/logger.ts';
import { BrokerBus } from './broker.ts';
import type { Bus } from './bus.ts';
import { connectJetStreamBus } from './jetstream.ts';
import { MemoryBus } from './memory.ts';

export * from './bus.ts';

/** Which transport createBus builds. */
export type BusConfig = { kind: 'jetstream'; url: string; stream?: string; deadLetterStream?: string; subjectPrefix?: string } | { kind: 'broker'; sink: string } | { kind: 'memory' };

/** What createBus may reuse: a NATS connection already open in the process, the logger. */
export interface BusContext {
  connection?: NatsConnection;
  log?: Logger;
}

/** The transport for `config` (connected, streams ensured). */
export async function createBus(config: BusConfig, context: BusContext = {}): Promise<Bus> {
  const log = context.log ? { log: context.log } : {};
  switch (config.kind) {
    case 'jetstream':
      return connectJetStreamBus({ ...config, ...log, ...(context.connection ? { connection: context.connection } : {}) });
    case 'broker':
      return new BrokerBus({ sink: config.sink });
    case 'memory':
      return new MemoryBus(log);
  }
}
