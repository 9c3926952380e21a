/**
 * Mocha root hooks: build dist/ first (tests that spawn functions run their bundles, so they
 * always test what production runs, built from the sources under test), and stop what
 * test/support/services.ts started.
 */
import { bundle } from '../../scripts/bundle.ts';
import { stopServices } from './services.ts';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(120_000);
    await bundle({ quiet: true });
  },
  async afterAll(): Promise<void> {
    await stopServices();
  },
};
