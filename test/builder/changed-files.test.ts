/**
 * The builder's half of `changed(…)` (builder/changed-files.ts): with only the push's before
 * revision in the plan, the builder diffs before..revision in its shallow clone after git-clone
 * and decides each stage's `when` on those files; a before revision it cannot fetch leaves the
 * files unknown, and then every changed() is true; files known from the plan are used as given.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuild } from '../../builder/run-build.ts';
import { completeChanges } from '../../builder/changed-files.ts';
import { createHostExecutor } from '../../builder/executors/host.ts';
import { configOf, planOf, stage } from '../fixtures/builder/plans.ts';
import { tempRepo, type TempRepo } from '../support/git-repo.ts';
import { collectingReporter } from './collecting-reporter.ts';
import type { PlanChanges } from '../../shared/plan/types.ts';

describe('builder: changed files from the clone', function () {
  this.timeout(30_000);
  let repo: TempRepo;
  let base: string;
  let head: string;
  const dirs: string[] = [];

  before(() => {
    repo = tempRepo('mono', 'main', 'team');
    base = repo.commit({ 'services/api/main.go': 'v1', 'docs/a.md': 'a' });
    head = repo.commit({ 'docs/b.md': 'b', 'docs/a.md': 'a2' });
  });
  after(() => {
    repo.remove();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const build = async (changes: PlanChanges | undefined) => {
    const workDir = mkdtempSync(join(tmpdir(), 'changed-'));
    dirs.push(workDir);
    const plan = planOf(
      [
        stage('git-clone', [], { builtin: 'git-clone', image: 'extensions/git-clone:stable' }),
        stage('api', ['echo api'], { when: "status == 'succeeded' && changed('services/api/**')" }),
        stage('docs', ['echo docs'], { when: "changed('docs/**')" }),
      ],
      { revision: head, ...(changes ? { changes } : {}) },
    );
    const reporter = collectingReporter();
    const outcome = await runBuild(configOf(plan, workDir, { git: { cloneUrl: `file://${repo.dir}`, branch: 'main', revision: head, clone: true } }), {
      executor: createHostExecutor(),
      reporter,
      cancel: new AbortController().signal,
    });
    const status = Object.fromEntries(outcome.stages.filter((s) => !s.parent).map((s) => [s.stage, s.status]));
    return { status, clone: reporter.textOf('git-clone').join('\n'), outcome };
  };

  it('diffs before..revision in the clone when only the before revision is known', async () => {
    const r = await build({ before: base });
    expect(r.outcome.status).to.equal('succeeded');
    expect(r.status).to.deep.equal({ 'git-clone': 'succeeded', api: 'skipped', docs: 'succeeded' });
    expect(r.clone).to.match(new RegExp(`changed files: 2 between ${base.slice(0, 8)} and ${head.slice(0, 8)}`));
  });

  it('uses the files of the plan as they are', async () => {
    const r = await build({ before: base, files: ['services/api/x.go'] });
    expect(r.status).to.deep.equal({ 'git-clone': 'succeeded', api: 'succeeded', docs: 'skipped' });
    expect(r.clone).to.not.match(/changed files:/);
  });

  it('without changes every changed() is true', async () => {
    expect((await build(undefined)).status).to.deep.equal({ 'git-clone': 'succeeded', api: 'succeeded', docs: 'succeeded' });
  });

  it('a before revision the repository does not have leaves the files unknown: everything runs', async () => {
    const r = await build({ before: 'f'.repeat(40) });
    expect(r.status).to.deep.equal({ 'git-clone': 'succeeded', api: 'succeeded', docs: 'succeeded' });
    expect(r.clone).to.match(/changed files unknown \(.*\); every changed\(\) is true/);
  });

  it('completeChanges leaves known files and missing before alone', async () => {
    const notes: string[] = [];
    expect(await completeChanges({ files: ['x'] }, '/nonexistent', head, (l) => notes.push(l))).to.deep.equal({ files: ['x'] });
    expect(await completeChanges(undefined, '/nonexistent', head, (l) => notes.push(l))).to.equal(undefined);
    expect(notes).to.deep.equal([]);
  });
});
