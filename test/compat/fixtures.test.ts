/**
 * Compatibility suite, part one: every real Estafette manifest in ../shared/fixtures/estafette
 * (taken unchanged from Estafette's repositories, see its SOURCES.md) parses, lints without errors,
 * validates against the JSON Schema, compiles into a plan for its build, every release and every
 * bot, and `estafette plan --json` prints that same plan. Skips with one line when the folder is
 * absent, fails then under REQUIRE_SERVICES=1.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { Ajv } from 'ajv';
import { compilePlan } from '../../shared/manifest/compile.ts';
import { buildRun } from '../../shared/manifest/build-run.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import { previewPlan } from '../../shared/manifest/preview.ts';
import { cliJson } from '../support/cli.ts';
import { requireSharedFixtures, sharedFixtures } from '../support/shared-fixtures.ts';

const schema = JSON.parse(readFileSync(new URL('../../shared/manifest/schema.json', import.meta.url), 'utf8'));
const validateSchema = new Ajv({ allErrors: true, strict: false }).compile(schema);
const fixtures = sharedFixtures();

describe('real Estafette manifests (../shared/fixtures/estafette)', function () {
  this.timeout(60_000);
  before(function () {
    requireSharedFixtures(this);
  });

  it('has at least ten manifests to check', () => expect(fixtures.length).to.be.greaterThanOrEqual(10));

  fixtures.forEach(({ file, path, text }) =>
    describe(file, () => {
      const loaded = loadManifest(text);
      const base = { repoSource: 'github.com', repoOwner: 'estafette', repoName: 'repo', branch: 'main', revision: 'a'.repeat(40) };

      it('parses and lints with no errors', () => {
        expect(loaded.errors).to.deep.equal([]);
        expect(loaded.manifest?.stages.length).to.be.greaterThan(0);
      });

      it('validates against the JSON Schema', () => {
        const ok = validateSchema(load(text));
        expect(validateSchema.errors ?? [], JSON.stringify(validateSchema.errors)).to.deep.equal([]);
        expect(ok).to.equal(true);
      });

      it('compiles its build, every release and every bot', () => {
        const m = loaded.manifest!;
        const run = buildRun(m, { ...base, counter: 3 });
        const build = compilePlan(m, run);
        expect(build.stages.map((s) => s.name)).to.include.members(m.stages.map((s) => s.name));
        expect(build.stages[0]!.name).to.equal('git-clone');
        for (const s of build.stages) expect(s.env.ESTAFETTE_STAGE_NAME).to.equal(s.name);
        for (const r of m.releases) {
          const plan = compilePlan(m, { ...run, kind: 'release', name: r.name });
          expect(plan.name).to.equal(r.name);
          expect(plan.estafetteEnv.ESTAFETTE_RELEASE_NAME).to.equal(r.name);
          expect(previewPlan(m, { ...base, counter: 3, event: 'manual', kind: 'release', name: r.name }).stages.map((s) => s.name)).to.deep.equal(plan.stages.map((s) => s.name));
        }
        for (const b of m.bots) expect(compilePlan(m, { ...run, kind: 'bot', name: b.name }).kind).to.equal('bot');
      });

      it('estafette plan --json prints the plan the dispatcher compiles', () => {
        const { code, json } = cliJson(['plan', path, '--json', '--branch', 'main', '--revision', base.revision, '--counter', '3']);
        expect(code).to.equal(0);
        expect(json.valid).to.equal(true);
        const m = loaded.manifest!;
        const plan = compilePlan(m, buildRun(m, { ...base, repoSource: json.plan.repository.split('/')[0], repoOwner: json.plan.repository.split('/')[1], repoName: json.plan.repository.split('/')[2], counter: 3 }));
        expect(json.plan.version.version).to.equal(plan.version);
        expect(json.plan.builder).to.deep.equal(plan.builder);
        const shape = (s: { name: string; image: string; commands: string[]; when: string; parallelStages: unknown[] }): unknown => ({
          name: s.name,
          image: s.image,
          commands: s.commands,
          when: s.when,
          parallelStages: (s.parallelStages as Array<typeof s>).map(shape),
        });
        expect(json.plan.stages.map(shape)).to.deep.equal(plan.stages.map(shape));
        expect(json.plan.releaseTargets.map((r: { name: string }) => r.name)).to.deep.equal(m.releases.map((r) => r.name));
        expect(JSON.stringify(json)).not.to.contain('estafette.secret(');
      });
    }),
  );
});

describe('manifest JSON Schema', () => {
  const cases: Array<[string, string, boolean]> = [
    ['the repository test fixture', readFileSync(new URL('../fixtures/manifests/valid.estafette.yaml', import.meta.url), 'utf8'), true],
    ['an unknown top-level key', 'stagez:\n  a:\n    image: x\n', false],
    ['a bad builder os', 'builder:\n  os: macos\nstages: {}\n', false],
    ['an unknown builder track', 'builder:\n  track: nightly\nstages: {}\n', false],
    ['a linux track on windows', 'builder:\n  os: windows\n  track: stable\nstages: {}\n', false],
    ['a windows track on windows', 'builder:\n  os: windows\n  track: nanoserver-1809-dev\nstages: {}\n', true],
    ['negative retries', 'stages:\n  a:\n    image: x:1\n    retries: -1\n', false],
    ['a trigger with an unknown filter', 'triggers:\n- gitlab: {}\nstages: {}\n', false],
    ['a finished pipeline trigger on status canceled', 'triggers:\n- pipeline: {name: self, status: canceled}\nstages: {}\n', false],
    ['a started pipeline trigger with any status', 'triggers:\n- pipeline: {name: self, event: started, status: x}\nstages: {}\n', true],
    ['an empty custom labelTemplate', "version:\n  custom:\n    labelTemplate: ''\nstages: {}\n", true],
    ['custom stage properties', 'stages:\n  a:\n    image: x:1\n    anything: [1, 2]\n', true],
  ];
  cases.forEach(([name, text, valid]) => it(`${valid ? 'accepts' : 'rejects'} ${name}`, () => expect(validateSchema(load(text))).to.equal(valid)));
});
