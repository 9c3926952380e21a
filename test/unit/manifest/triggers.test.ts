import { expect } from 'chai';
import { parseManifest } from '../../../shared/manifest/parse.ts';
import { allTriggers, cronDue, cronSchedules, gitTriggerMatches, matchPattern, normalizeTrigger, pipelineTriggerMatches, releaseTriggerMatches, type NormalizedTrigger } from '../../../shared/manifest/triggers.ts';

const self = 'github.com/estafette/api';

describe('triggers', () => {
  const patterns: Array<[string, string, boolean, boolean?]> = [
    ['main', 'main', true],
    ['main', 'mainline', false],
    ['master|main', 'master', true],
    ['master|main', 'feature', false],
    ['feature/.+', 'feature/x', true],
    ['!~ main', 'main', false],
    ['!~ main', 'feature', true],
    ['!~main|master', 'master', false],
    ['', 'anything', true],
    ['(', 'x', false],
    ['github.com/Estafette/.*', 'github.com/estafette/api', false],
    ['github.com/Estafette/.*', 'github.com/estafette/api', true, true],
  ];
  patterns.forEach(([pattern, value, want, ci]) => it(`matchPattern('${pattern}', '${value}'${ci ? ', ci' : ''}) → ${want}`, () => expect(matchPattern(pattern, value, ci)).to.equal(want)));

  it('applies Estafette defaults', () => {
    expect(normalizeTrigger({ pipeline: { name: 'self' } }, { kind: 'build' })).to.deep.equal({
      filter: { kind: 'pipeline', event: 'finished', status: 'succeeded', name: 'self', branch: 'master|main' },
      action: { kind: 'builds', branch: '' },
    });
    expect(normalizeTrigger({ git: { repository: 'github.com/o/r' } }, { kind: 'build' })!.filter).to.deep.equal({ kind: 'git', event: 'push', repository: 'github.com/o/r', branch: 'master|main' });
    expect(normalizeTrigger({ release: { name: 'x', target: 'dev' } }, { kind: 'build' })!.filter).to.include({ event: 'finished', status: 'succeeded' });
    expect(normalizeTrigger({ pipeline: { name: 'self' } }, { kind: 'release', release: 'beta' })!.action).to.deep.equal({ kind: 'releases', target: 'beta', action: '', version: 'same' });
    expect(normalizeTrigger({ pipeline: { name: 'github.com/o/other' } }, { kind: 'release', release: 'beta' })!.action).to.include({ version: 'latest' });
    expect(normalizeTrigger({ cron: { schedule: '0 * * * *' } }, { kind: 'bot', bot: 'b' })!.action).to.deep.equal({ kind: 'runs', bot: 'b', branch: '' });
    expect(normalizeTrigger({}, { kind: 'build' })).to.equal(undefined);
    expect(normalizeTrigger({ name: 'n', cron: { schedule: '* * * * *' } }, { kind: 'build' })!.name).to.equal('n');
  });

  const pipeline = (f: Partial<{ event: string; status: string; name: string; branch: string }>): NormalizedTrigger => normalizeTrigger({ pipeline: { name: 'self', ...f } }, { kind: 'build' })!;
  const pipelineCases: Array<[string, NormalizedTrigger, Parameters<typeof pipelineTriggerMatches>[1], boolean]> = [
    ['self finished on main', pipeline({}), { event: 'finished', pipeline: self, branch: 'main', status: 'succeeded' }, true],
    ['self is case-insensitive', pipeline({}), { event: 'finished', pipeline: 'github.com/Estafette/API', branch: 'main', status: 'succeeded' }, true],
    ['failed build', pipeline({}), { event: 'finished', pipeline: self, branch: 'main', status: 'failed' }, false],
    ['other branch', pipeline({}), { event: 'finished', pipeline: self, branch: 'feature', status: 'succeeded' }, false],
    ['negated branch', pipeline({ branch: '!~ main' }), { event: 'finished', pipeline: self, branch: 'feature', status: 'succeeded' }, true],
    ['started event', pipeline({ event: 'started' }), { event: 'started', pipeline: self, branch: 'main' }, true],
    ['event mismatch', pipeline({ event: 'started' }), { event: 'finished', pipeline: self, branch: 'main', status: 'succeeded' }, false],
    ['other pipeline by name', pipeline({ name: 'github.com/estafette/manifest' }), { event: 'finished', pipeline: 'github.com/estafette/manifest', branch: 'master', status: 'succeeded' }, true],
    ['other pipeline not matching', pipeline({ name: 'github.com/estafette/manifest' }), { event: 'finished', pipeline: self, branch: 'main', status: 'succeeded' }, false],
    ['status regex', pipeline({ status: 'succeeded|failed' }), { event: 'finished', pipeline: self, branch: 'main', status: 'failed' }, true],
  ];
  pipelineCases.forEach(([name, t, e, want]) => it(`pipeline trigger: ${name} → ${want}`, () => expect(pipelineTriggerMatches(t, e, self)).to.equal(want)));

  it('matches release and git triggers', () => {
    const rel = normalizeTrigger({ release: { name: 'github.com/o/r', target: 'development' } }, { kind: 'release', release: 'staging' })!;
    expect(releaseTriggerMatches(rel, { event: 'finished', pipeline: 'github.com/o/r', target: 'development', status: 'succeeded' }, self)).to.equal(true);
    expect(releaseTriggerMatches(rel, { event: 'finished', pipeline: 'github.com/o/r', target: 'production', status: 'succeeded' }, self)).to.equal(false);
    expect(releaseTriggerMatches(rel, { event: 'finished', pipeline: 'github.com/o/r', target: 'development', status: 'failed' }, self)).to.equal(false);
    const git = normalizeTrigger({ git: { repository: 'github.com/o/lib', branch: 'main' } }, { kind: 'build' })!;
    expect(gitTriggerMatches(git, { event: 'push', repository: 'github.com/O/lib', branch: 'main' }, self)).to.equal(true);
    expect(gitTriggerMatches(git, { event: 'push', repository: 'github.com/o/lib', branch: 'dev' }, self)).to.equal(false);
    expect(gitTriggerMatches(git, { event: 'push', repository: 'github.com/o/lib2', branch: 'main' }, self)).to.equal(false);
    expect(pipelineTriggerMatches(git, { event: 'finished', pipeline: self, branch: 'main', status: 'succeeded' }, self)).to.equal(false);
  });

  it('lists cron schedules of builds, releases and bots', () => {
    const { manifest } = parseManifest(
      "triggers:\n- cron: {schedule: '0 1 * * *'}\nstages:\n  s:\n    image: a:1\nreleases:\n  dev:\n    triggers:\n    - cron: {schedule: '0 10 */1 * *'}\n    - pipeline: {name: self}\nbots:\n  b:\n    triggers:\n    - cron: {schedule: '*/5 * * * *'}\n    stages:\n      s:\n        image: a:1\n",
    );
    const crons = cronSchedules(manifest!);
    expect(crons.map((c) => [c.scope.kind, c.field, c.schedule])).to.deep.equal([
      ['build', 'triggers[0]', '0 1 * * *'],
      ['release', 'releases.dev.triggers[0]', '0 10 */1 * *'],
      ['bot', 'bots.b.triggers[0]', '*/5 * * * *'],
    ]);
    expect(allTriggers(manifest!)).to.have.length(4);
  });

  const due: Array<[string, string, boolean]> = [
    ['0 10 * * *', '2026-03-04T10:00:00Z', true],
    ['0 10 * * *', '2026-03-04T10:00:59Z', true],
    ['0 10 * * *', '2026-03-04T10:01:00Z', false],
    ['*/5 * * * *', '2026-03-04T10:15:30Z', true],
    ['*/5 * * * *', '2026-03-04T10:16:00Z', false],
    ['0 0 * * 1', '2026-03-02T00:00:00Z', true],
    ['0 0 * * 1', '2026-03-03T00:00:00Z', false],
    ['nonsense', '2026-03-03T00:00:00Z', false],
  ];
  due.forEach(([schedule, time, want]) => it(`cronDue('${schedule}', ${time}) → ${want}`, () => expect(cronDue(schedule, new Date(time))).to.equal(want)));
});
