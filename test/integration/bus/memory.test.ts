import { expect } from 'chai';
import { createBus } from '../../../shared/bus/index.ts';
import { MemoryBus } from '../../../shared/bus/memory.ts';
import { describeBus } from './contract.ts';
import { recordingLogger } from '../../support/logger.ts';

describeBus('memory', async () => {
  const logs: string[] = [];
  const bus = new MemoryBus({ log: recordingLogger(logs) });
  return { bus, delivers: true, logs, close: () => bus.close() };
});

describe('bus: createBus', () => {
  it('builds the transport the config names', async () => {
    const memory = await createBus({ kind: 'memory' });
    const broker = await createBus({ kind: 'broker', sink: 'http://127.0.0.1:1/' });
    expect(memory).to.be.instanceOf(MemoryBus);
    expect(broker.constructor.name).to.equal('BrokerBus');
    await Promise.all([memory.close(), broker.close()]);
  });
});
