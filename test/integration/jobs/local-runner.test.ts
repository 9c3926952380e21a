/**
 * The local JobRunner with a stand-in builder command (a process that waits for SIGTERM), so the
 * runner's own contract is tested apart from the builder; the real builder runs through it in
 * the dispatch and end-to-end tests.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { LocalJobRunner } from '../../../shared/jobs/local-runner.ts';
import { sampleBuilderConfig } from '../../support/builder-config.ts';
import { describeJobRunner } from './runner-contract.ts';

const standIn = [process.execPath, '-e', "process.on('SIGTERM', () => process.exit(0)); console.log(process.env.BUILDER_CONFIG_PATH); setInterval(() => {}, 1000);"];

describeJobRunner('local', async () => {
  const runner = new LocalJobRunner({ command: standIn });
  return {
    runner,
    count: async (ref) => ((await runner.state(ref)) === 'running' ? 1 : 0),
    teardown: () => runner.close(),
  };
});

describe('local JobRunner', () => {
  it('hands the builder its config in a private file and reports its exit', async () => {
    let out = '';
    const runner = new LocalJobRunner({
      command: [
        process.execPath,
        '-e',
        "const fs=require('fs');const p=process.env.BUILDER_CONFIG_PATH;console.log(JSON.stringify({mode:(fs.statSync(p).mode&0o777).toString(8),cfg:JSON.parse(fs.readFileSync(p,'utf8'))}))",
      ],
      onOutput: (_r, t) => (out += t),
    });
    const ref = { kind: 'build' as const, id: '7', repoOwner: 'o', repoName: 'r' };
    await runner.start(ref, sampleBuilderConfig({ job: { kind: 'build', id: '7' } }));
    expect(await runner.waitFor(ref)).to.equal(0);
    const seen = JSON.parse(out);
    expect(seen.mode).to.equal('600');
    expect(seen.cfg.job.id).to.equal('7');
    expect(seen.cfg.workDir).to.not.equal('/estafette-work');
    expect(await runner.state(ref)).to.equal('succeeded');
    expect(() => readFileSync(seen.cfg.workDir)).to.throw(); // work dir removed after exit
  });

  it('reports a builder that exited non-zero as failed', async () => {
    const runner = new LocalJobRunner({ command: [process.execPath, '-e', 'process.exit(3)'] });
    const ref = { kind: 'build' as const, id: '8', repoOwner: 'o', repoName: 'r' };
    await runner.start(ref, sampleBuilderConfig());
    await runner.waitFor(ref);
    expect(await runner.state(ref)).to.equal('failed');
  });
});
