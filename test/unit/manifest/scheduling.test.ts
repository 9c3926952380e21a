/**
 * The scheduling keys of a manifest (issue 22): reading and linting `concurrency`, `paths`,
 * `ignorePaths`, release `concurrency` and `approval`; the rules dispatch applies with their
 * defaults (which branches supersede, path filters, release schedule); `changed(…)` in `when`;
 * the JSON Schema and `estafette schema` documenting them; and every real Estafette manifest
 * still reading exactly as before (none uses the new keys).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { load } from 'js-yaml';
import { loadManifest } from '../../../shared/manifest/load.ts';
import { compilePlan } from '../../../shared/manifest/compile.ts';
import { buildLimit, cancelsSuperseded, pathFilterSkip, releaseSchedule } from '../../../shared/manifest/scheduling.ts';
import { checkWhen, evaluateWhen } from '../../../shared/manifest/when.ts';
import type { Manifest } from '../../../shared/manifest/types.ts';

const STAGE = 'stages:\n  build:\n    image: alpine:3.20\n    commands: [make]\n';
const read = (yaml: string): { manifest: Manifest; errors: string[]; warnings: string[] } => {
  const r = loadManifest(yaml);
  return { manifest: r.manifest!, errors: r.errors.map((p) => `${p.field}: ${p.message}`), warnings: r.warnings.map((p) => `${p.field}: ${p.message}`) };
};

describe('manifest scheduling keys', () => {
  it('reads concurrency, paths, ignorePaths and release concurrency/approval', () => {
    const { manifest: m, errors } = read(`
concurrency:
  cancelSuperseded: [feature/*, 'fix-*']
  builds: 2
  perBranch: true
paths: [services/**, go.mod]
ignorePaths: docs/**
${STAGE}
releases:
  production:
    concurrency: 2
    approval:
      required: 2
      roles: operator
      users: [alice@example.com]
      groups: [platform]
      expiresAfter: 24h
      allowRequester: true
    stages:
      deploy:
        image: alpine:3.20
        commands: [deploy]
`);
    expect(errors).to.deep.equal([]);
    expect(m.concurrency).to.deep.equal({ cancelSuperseded: ['feature/*', 'fix-*'], builds: 2, perBranch: true });
    expect(m.paths).to.deep.equal(['services/**', 'go.mod']);
    expect(m.ignorePaths).to.deep.equal(['docs/**']);
    expect(m.releases[0]).to.deep.include({ concurrency: 2, approval: { required: 2, roles: ['operator'], users: ['alice@example.com'], groups: ['platform'], expiresAfter: '24h', allowRequester: true } });
  });

  const bad: Array<{ name: string; yaml: string; error: RegExp }> = [
    { name: 'builds below 1', yaml: `concurrency:\n  builds: 0\n${STAGE}`, error: /concurrency\.builds: must be an integer from 1/ },
    { name: 'builds not a number', yaml: `concurrency:\n  builds: many\n${STAGE}`, error: /concurrency\.builds: must be an integer/ },
    { name: 'cancelSuperseded of another type', yaml: `concurrency:\n  cancelSuperseded: sometimes\n${STAGE}`, error: /concurrency\.cancelSuperseded: must be true or false/ },
    { name: 'an empty glob', yaml: `paths: ['']\n${STAGE}`, error: /paths\[0\]: a glob must not be empty/ },
    { name: 'an unknown approval role', yaml: `${STAGE}releases:\n  prod:\n    approval:\n      roles: [boss]\n`, error: /releases\.prod\.approval\.roles\[0\]: unknown role 'boss'/ },
    { name: 'a bad expiry', yaml: `${STAGE}releases:\n  prod:\n    approval:\n      expiresAfter: soon\n`, error: /releases\.prod\.approval\.expiresAfter: 'soon' is not a duration/ },
    { name: 'more approvals than users', yaml: `${STAGE}releases:\n  prod:\n    approval:\n      required: 3\n      users: [a@x, b@x]\n`, error: /needs 3 approvals but only 2 user/ },
    { name: 'release concurrency 0', yaml: `${STAGE}releases:\n  prod:\n    concurrency: 0\n`, error: /releases\.prod\.concurrency: must be an integer from 1/ },
    { name: 'a when with changed() of a parameter', yaml: `stages:\n  s:\n    image: alpine:3.20\n    when: changed(branch)\n`, error: /stages\.s\.when: .*must be quoted globs/ },
    { name: 'a when with changed() and no glob', yaml: `stages:\n  s:\n    image: alpine:3.20\n    when: changed()\n`, error: /needs at least one glob/ },
  ];
  bad.forEach((c) => it(`rejects ${c.name}`, () => expect(read(c.yaml).errors.join('\n')).to.match(c.error)));

  it('warns about an unknown approval key and perBranch without builds, and accepts both', () => {
    const r = read(`concurrency:\n  perBranch: true\n${STAGE}releases:\n  prod:\n    approval:\n      quorum: 2\n`);
    expect(r.errors).to.deep.equal([]);
    expect(r.warnings.join('\n'))
      .to.match(/releases\.prod\.approval\.quorum: unknown approval key/)
      .and.to.match(/concurrency\.perBranch: has no effect/);
  });

  describe('cancelsSuperseded', () => {
    const m = (extra: string) => read(`${extra}${STAGE}`).manifest;
    const cases: Array<[string, string, string, boolean]> = [
      ['default: a feature branch', '', 'feature/x', true],
      ['default: main', '', 'main', false],
      ['default: master', '', 'master', false],
      ['default: the release branch', 'version:\n  semver:\n    releaseBranch: release/.+\n', 'release/2.1', false],
      ['true: main too', 'concurrency:\n  cancelSuperseded: true\n', 'main', true],
      ['false: no branch', 'concurrency:\n  cancelSuperseded: false\n', 'feature/x', false],
      ['globs: matching', 'concurrency:\n  cancelSuperseded: [feature/**]\n', 'feature/a/b', true],
      ['globs: not matching', 'concurrency:\n  cancelSuperseded: [feature/**]\n', 'bugfix/a', false],
    ];
    cases.forEach(([name, extra, branch, want]) => it(name, () => expect(cancelsSuperseded(m(extra), branch)).to.equal(want)));
  });

  it('buildLimit and releaseSchedule apply their defaults', () => {
    expect(buildLimit(read(STAGE).manifest)).to.equal(undefined);
    expect(buildLimit(read(`concurrency:\n  builds: 1\n${STAGE}`).manifest)).to.deep.equal({ limit: 1, perBranch: false });
    const m = read(`${STAGE}releases:\n  a:\n    stages: {}\n  b:\n    concurrency: 3\n    approval: {}\n  c:\n    approval:\n      users: [x@y]\n      expiresAfter: 30m\n`).manifest;
    expect(releaseSchedule(m, 'a')).to.deep.equal({ limit: 1 });
    expect(releaseSchedule(m, 'b')).to.deep.equal({ limit: 3, approval: { required: 1, roles: ['operator'], users: [], groups: [], allowRequester: false } });
    expect(releaseSchedule(m, 'c').approval).to.deep.equal({ required: 1, roles: [], users: ['x@y'], groups: [], expiresAfterSeconds: 1800, allowRequester: false });
  });

  describe('pathFilterSkip', () => {
    const m = read(`paths: ['services/**', go.mod]\nignorePaths: ['**/*.md']\n${STAGE}`).manifest;
    const cases: Array<[string, string[] | undefined, RegExp | undefined]> = [
      ['unknown changes build', undefined, undefined],
      ['a matching file builds', ['services/api/main.go'], undefined],
      ['a top-level file in paths builds', ['go.mod'], undefined],
      ['only other files: skipped with the reason', ['docs/intro.txt', 'web/app.ts'], /no changed file matches paths \[services\/\*\*, go\.mod\].*\(2 changed files\)/],
      ['a matching but ignored file: skipped', ['services/api/README.md'], /no changed file matches paths/],
      ['no files at all: skipped', [], /no changed file matches paths/],
    ];
    cases.forEach(([name, files, want]) =>
      it(name, () => {
        const r = pathFilterSkip(m, files);
        if (want) expect(r).to.match(want);
        else expect(r).to.equal(undefined);
      }),
    );
    it('ignorePaths alone skips a push of only ignored files', () => {
      const only = read(`ignorePaths: [docs/**]\n${STAGE}`).manifest;
      expect(pathFilterSkip(only, ['docs/a.md', 'docs/b/c.png'])).to.match(/every changed file matches ignorePaths \(2 files\)/);
      expect(pathFilterSkip(only, ['docs/a.md', 'main.go'])).to.equal(undefined);
      expect(pathFilterSkip(read(STAGE).manifest, ['x'])).to.equal(undefined);
    });
  });

  describe('changed(…) in when', () => {
    const params = { status: 'succeeded', branch: 'main', action: '', trigger: 'git', server: 'estafette' };
    const cases: Array<[string, string[] | undefined, boolean]> = [
      ["changed('services/api/**')", ['services/api/cmd/main.go'], true],
      ["changed('services/api/**')", ['docs/readme.md'], false],
      ["changed('services/api/**')", undefined, true],
      ["changed('services/api/**')", [], false],
      ["changed('a/**', 'b/*.go')", ['b/x.go'], true],
      ["changed('b/*.go')", ['b/sub/x.go'], false],
      ["changed('docs/**')", ['docs/.vale.ini'], true],
      ["status == 'succeeded' && !changed('docs/**')", ['docs/a.md'], false],
      ["status == 'succeeded' && !changed('docs/**')", ['main.go'], true],
      ["changed('./services/**')", ['services/x'], true],
    ];
    cases.forEach(([expr, files, want]) =>
      it(`${expr} with ${files === undefined ? 'unknown files' : JSON.stringify(files)} is ${want}`, () => {
        expect(checkWhen(expr)).to.equal(undefined);
        expect(evaluateWhen(expr, params, {}, files === undefined ? {} : { files })).to.equal(want);
      }),
    );
  });

  it('compiles the push changes into the plan', () => {
    const m = read(STAGE).manifest;
    const run = { kind: 'build' as const, repoSource: 'local', repoOwner: 'o', repoName: 'r', branch: 'main', revision: 'a'.repeat(40), version: { version: '1.0.0', major: '1', minor: '0', patch: '0', label: '' } };
    expect(compilePlan(m, { ...run, changes: { before: 'b'.repeat(40), files: ['x'] } }).changes).to.deep.equal({ before: 'b'.repeat(40), files: ['x'] });
    expect(compilePlan(m, run)).to.not.have.property('changes');
  });

  describe('schema and compatibility', () => {
    const schema = JSON.parse(readFileSync(new URL('../../../shared/manifest/schema.json', import.meta.url), 'utf8'));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    it('the JSON Schema documents every new key and accepts a manifest using them', () => {
      for (const k of ['concurrency', 'paths', 'ignorePaths']) expect(schema.properties[k]?.description ?? schema.properties[k]?.properties, k).to.not.equal(undefined);
      expect(Object.keys(schema.properties.concurrency.properties)).to.deep.equal(['cancelSuperseded', 'builds', 'perBranch']);
      expect(Object.keys(schema.definitions.release.properties)).to.include.members(['concurrency', 'approval']);
      const doc = load(`concurrency: {cancelSuperseded: [a/*], builds: 1}\npaths: [x/**]\n${STAGE}releases:\n  prod:\n    concurrency: 1\n    approval: {required: 1, roles: [operator], expiresAfter: 1h}\n`);
      expect(validate(doc), JSON.stringify(validate.errors)).to.equal(true);
      expect(validate(load(`concurrency: {builds: 0}\n${STAGE}`))).to.equal(false);
    });

    it('estafette schema prints the new keys with their descriptions', () => {
      const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../../cli/main.ts', import.meta.url)), 'schema'], { encoding: 'utf8' });
      const printed = JSON.parse(out);
      expect(printed.properties.concurrency.properties.cancelSuperseded.description).to.match(/superseded/);
      expect(printed.properties.paths.description).to.match(/picomatch/);
      expect(printed.definitions.release.properties.approval.properties.required).to.include({ type: 'integer' });
    });

    const dir = fileURLToPath(new URL('../../../../shared/fixtures/estafette/', import.meta.url));
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')) : [];
    it('finds the Estafette fixtures', () => expect(files.length).to.be.greaterThanOrEqual(10));
    files.forEach((f) =>
      it(`${f}: no scheduling key, no new finding, and supersede/queue defaults only`, () => {
        const r = loadManifest(readFileSync(dir + f, 'utf8'));
        expect(r.errors).to.deep.equal([]);
        const m = r.manifest!;
        expect(m.concurrency).to.equal(undefined);
        expect(m.paths).to.equal(undefined);
        expect(m.releases.every((x) => x.concurrency === undefined && x.approval === undefined)).to.equal(true);
        expect(buildLimit(m)).to.equal(undefined);
        for (const x of m.releases) expect(releaseSchedule(m, x.name)).to.deep.equal({ limit: 1 });
        expect(pathFilterSkip(m, ['anything'])).to.equal(undefined);
      }),
    );
  });
});
