/**
 * The JobRunner contract (shared/jobs/runner.ts), run by every implementation:
 * `describeJobRunner(name, setup)` where setup returns the runner and a way to observe how many
 * jobs exist for a ref (from the outside: the API server's objects, or live processes).
 */
import { expect } from 'chai';
import type { JobRef, JobRunner } from '../../../shared/jobs/runner.ts';
import { sampleBuilderConfig } from '../../support/builder-config.ts';

export interface RunnerHarness {
  runner: JobRunner;
  /** How many jobs exist for this ref, seen from outside the runner. */
  count(ref: JobRef): Promise<number>;
  teardown(): Promise<void>;
}

let n = 0;
const freshRef = (): JobRef => ({ kind: 'build', id: `${Date.now()}${n++}`, repoOwner: 'estafette', repoName: 'estafette-ci-api' });

export function describeJobRunner(name: string, setup: () => Promise<RunnerHarness>): void {
  describe(`JobRunner contract: ${name}`, function () {
    let h: RunnerHarness;
    beforeEach(async () => (h = await setup()));
    afterEach(async () => h.teardown());

    it('start creates exactly one job', async () => {
      const ref = freshRef();
      await h.runner.start(ref, sampleBuilderConfig({ job: { kind: 'build', id: ref.id } }));
      expect(await h.count(ref)).to.equal(1);
      expect(await h.runner.state(ref)).to.equal('running');
    });

    it('start is idempotent: a redelivered start does not create a second job', async () => {
      const ref = freshRef();
      const cfg = sampleBuilderConfig({ job: { kind: 'build', id: ref.id } });
      await Promise.all([h.runner.start(ref, cfg), h.runner.start(ref, cfg)]);
      await h.runner.start(ref, cfg);
      expect(await h.count(ref)).to.equal(1);
    });

    it('cancel stops the job, and canceling again is harmless', async () => {
      const ref = freshRef();
      await h.runner.start(ref, sampleBuilderConfig({ job: { kind: 'build', id: ref.id } }));
      await h.runner.cancel(ref);
      expect(await h.count(ref)).to.equal(0);
      expect(await h.runner.state(ref)).to.not.equal('running');
      await h.runner.cancel(ref);
    });

    it('an unknown job is missing and canceling it succeeds', async () => {
      const ref = freshRef();
      expect(await h.runner.state(ref)).to.equal('missing');
      await h.runner.cancel(ref);
    });
  });
}
