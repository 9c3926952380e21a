/** Mocha root hooks: stop what test/support/services.ts started. */
import { stopServices } from './services.ts';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopServices();
  },
};
