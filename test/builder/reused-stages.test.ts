/**
 * A stage a re-run of failed stages reuses (`reusedFrom` in the plan): the builder does not
 * run it and reports nothing for it (build-dispatch stored its result), writes one line saying
 * where the result comes from, and runs the stages after it as usual, with the build's status
 * still `succeeded` going into them.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHostExecutor } from '../../builder/executors/host.ts';
import { runBuild } from '../../builder/run-build.ts';
import { configOf, planOf, stage } from '../fixtures/builder/plans.ts';
import { collectingReporter } from './collecting-reporter.ts';

describe('builder: stages reused by a re-run', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'estafette-reuse-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('skips a reused stage without a report, notes it in its log, and runs the rest', async () => {
    const reporter = collectingReporter();
    const plan = planOf([
      { ...stage('prepare', ['echo prepared > prepared.txt']), reusedFrom: { buildId: '42', buildNumber: 7 } },
      stage('test', ['test ! -e prepared.txt && echo "prepare did not run"', 'echo "status $ESTAFETTE_BUILD_STATUS"']),
    ]);
    const outcome = await runBuild(configOf(plan, dir), { executor: createHostExecutor(), reporter, cancel: new AbortController().signal });
    expect(outcome.status, reporter.lines.map((l) => l.text).join('\n')).to.equal('succeeded');
    expect(reporter.finals().map((s) => [s.stage, s.status])).to.deep.equal([['test', 'succeeded']]);
    expect(reporter.reports.flatMap((r) => r.stages ?? []).some((s) => s.stage === 'prepare')).to.equal(false);
    expect(reporter.textOf('prepare')).to.deep.equal(['estafette: not run again: the result of build #7 is reused']);
    expect(reporter.textOf('test').filter((l) => !l.startsWith('> '))).to.deep.equal(['prepare did not run', 'status succeeded']);
  });
});
