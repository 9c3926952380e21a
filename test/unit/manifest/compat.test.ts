/**
 * Compatibility suite: every real Estafette manifest in ../shared/fixtures/estafette (beside the
 * clone, never copied in) parses, lints without errors, validates against the JSON Schema and
 * compiles into a plan for its build, every release and every bot.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { Ajv } from 'ajv';
import { compilePlan } from '../../../shared/manifest/compile.ts';
import { loadManifest } from '../../../shared/manifest/load.ts';
import { renderVersion } from '../../../shared/manifest/version.ts';

const fixturesDir = fileURLToPath(new URL('../../../../shared/fixtures/estafette/', import.meta.url));
const schema = JSON.parse(readFileSync(new URL('../../../shared/manifest/schema.json', import.meta.url), 'utf8'));
const validateSchema = new Ajv({ allErrors: true, strict: false }).compile(schema);

describe('real Estafette manifests (../shared/fixtures/estafette)', () => {
  it('finds the fixture folder beside the repository', () => {
    expect(existsSync(fixturesDir), `missing ${fixturesDir}`).to.equal(true);
  });
  const files = existsSync(fixturesDir) ? readdirSync(fixturesDir).filter((f) => f.endsWith('.yaml')).sort() : [];
  it('has at least ten manifests to check', () => expect(files.length).to.be.greaterThanOrEqual(10));

  files.forEach((file) =>
    describe(file, () => {
      const text = readFileSync(fixturesDir + file, 'utf8');
      const loaded = loadManifest(text);

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
        const base = { repoSource: 'github.com', repoOwner: 'estafette', repoName: 'repo', branch: 'main', revision: 'a'.repeat(40) };
        const version = renderVersion(m.version, { branch: 'main', revision: base.revision, counter: 3 });
        const build = compilePlan(m, { ...base, kind: 'build', version });
        expect(build.stages.map((s) => s.name)).to.include.members(m.stages.map((s) => s.name));
        expect(build.stages[0]!.name).to.equal('git-clone');
        for (const s of build.stages) expect(s.env.ESTAFETTE_STAGE_NAME).to.equal(s.name);
        for (const r of m.releases) {
          const plan = compilePlan(m, { ...base, kind: 'release', name: r.name, version });
          expect(plan.name).to.equal(r.name);
          expect(plan.estafetteEnv.ESTAFETTE_RELEASE_NAME).to.equal(r.name);
        }
        for (const b of m.bots) expect(compilePlan(m, { ...base, kind: 'bot', name: b.name, version }).kind).to.equal('bot');
      });
    }),
  );
});

describe('manifest JSON Schema', () => {
  const cases: Array<[string, string, boolean]> = [
    ['the repository test fixture', readFileSync(new URL('../../fixtures/manifests/valid.estafette.yaml', import.meta.url), 'utf8'), true],
    ['an unknown top-level key', 'stagez:\n  a:\n    image: x\n', false],
    ['a bad builder os', 'builder:\n  os: macos\nstages: {}\n', false],
    ['negative retries', 'stages:\n  a:\n    image: x:1\n    retries: -1\n', false],
    ['a trigger with an unknown filter', 'triggers:\n- gitlab: {}\nstages: {}\n', false],
    ['custom stage properties', 'stages:\n  a:\n    image: x:1\n    anything: [1, 2]\n', true],
  ];
  cases.forEach(([name, text, valid]) => it(`${valid ? 'accepts' : 'rejects'} ${name}`, () => expect(validateSchema(load(text))).to.equal(valid)));
});
