/** The step events of `logs.stream` for Estafette's clients (functions/query-api/step-tree.ts), and image references as Estafette's image objects. */
import { expect } from 'chai';
import { imageOf, stageEventsOf, stagePlacement } from '../../../functions/query-api/step-tree.ts';

describe('query-api step tree: stream step events', () => {
  const place = stagePlacement([
    { stage: 'build', parent: null, kind: 'stage' },
    { stage: 'build/db', parent: 'build', kind: 'service' },
    { stage: 'checks', parent: null, kind: 'parallel' },
    { stage: 'checks/unit', parent: 'checks', kind: 'stage' },
  ]);
  const line = (stage: string) => ({ seq: 0, stage, run: 1, time: '2026-01-01T00:00:00.000Z', stream: 'stdout' as const, text: 'x' });

  it('announces a nested step’s parent once, before its first line', () => {
    const ev = stageEventsOf(place);
    expect(ev.beforeLine(line('checks/unit'))).to.deep.equal([{ step: 'checks', type: 'stage', status: 'RUNNING' }]);
    expect(ev.beforeLine(line('checks/unit'))).to.deep.equal([]);
    expect(ev.beforeLine(line('build'))).to.deep.equal([]);
    expect(ev.beforeLine(line('build/db'))).to.deep.equal([]);
  });

  it('gives the step the lines leave its final status from the stage list at the start (nested ones first), once per switch', () => {
    const ev = stageEventsOf(place, [
      { stage: 'build', run: 1, status: 'succeeded', durationMs: 2000, message: null },
      { stage: 'build/db', run: 1, status: 'succeeded', durationMs: 2100, message: null },
      { stage: 'checks', run: 1, status: 'running', durationMs: null, message: null },
    ]);
    expect(ev.beforeLine(line('build'))).to.deep.equal([]);
    expect(ev.beforeLine(line('build/db'))).to.deep.equal([]);
    expect(ev.beforeLine(line('checks/unit'))).to.deep.equal([
      { step: 'db', parentStage: 'build', type: 'service', depth: 1, status: 'SUCCEEDED', duration: 2100e6, exitCode: 0 },
      { step: 'build', type: 'stage', status: 'SUCCEEDED', duration: 2000e6, exitCode: 0 },
      { step: 'checks', type: 'stage', status: 'RUNNING' },
    ]);
    // A stage still running at the start gets no final status from the list (its live report gives it).
    expect(ev.beforeLine(line('build'))).to.deep.equal([]);
  });

  it('turns stage reports into step status events (capital status, nanoseconds, exit code)', () => {
    const ev = stageEventsOf(place);
    expect(
      ev.afterStatus({
        stages: [
          { stage: 'checks/unit', run: 2, parent: 'checks', kind: 'stage', status: 'failed', durationMs: 1500, message: 'exit code 3' },
          { stage: 'build/db', run: 1, parent: 'build', kind: 'service', status: 'succeeded', durationMs: 10 },
          { stage: 'build', run: 1, kind: 'stage', status: 'running' },
        ],
      }),
    ).to.deep.equal([
      { step: 'unit', parentStage: 'checks', type: 'stage', depth: 1, runIndex: 1, status: 'FAILED', duration: 1500e6, exitCode: 3 },
      { step: 'db', parentStage: 'build', type: 'service', depth: 1, status: 'SUCCEEDED', duration: 10e6, exitCode: 0 },
      { step: 'build', type: 'stage', status: 'RUNNING', duration: 0, exitCode: 0 },
    ]);
  });

  it('image references: name and tag, latest without a tag, registry ports kept', () => {
    expect([imageOf('golang:1.22'), imageOf('postgres'), imageOf('registry:5000/team/app'), imageOf('')].map((i) => i && [i.name, i.tag])).to.deep.equal([
      ['golang', '1.22'],
      ['postgres', 'latest'],
      ['registry:5000/team/app', 'latest'],
      null,
    ]);
  });
});
