/**
 * Compatibility suite, part two: Estafette's manifest and build rules, each derived from its own
 * code or tests (the source is named in every case as `repo: file`, read from the public
 * repositories estafette/estafette-ci-manifest, -builder and -api), checked through the public
 * surface a user has — `estafette validate --json` and `estafette plan --json`, real processes.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliJson } from '../support/cli.ts';

const MANIFEST = 'estafette-ci-manifest';
const BUILDER = 'estafette-ci-builder';
const API = 'estafette-ci-api';

/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON printed by the CLI is checked field by field */
type Json = any;

let tmp: string;
let n = 0;

/** `estafette plan --json` of a manifest text with extra arguments; expects a plan. */
function plan(yaml: string, args: string[] = []): Json {
  const file = join(tmp, `m${++n}.yaml`);
  writeFileSync(file, yaml);
  const r = cliJson(['plan', file, '--json', '--revision', '219aae19153da2b20ac1d88e2fd68e0b20274be2', ...args]);
  expect(r.code, JSON.stringify(r.json.errors)).to.equal(0);
  return r.json.plan;
}

/** `estafette validate --json` of a manifest text (through stdin). */
function validate(yaml: string): Json {
  return cliJson(['validate', '-', '--json'], { input: yaml }).json;
}

const fields = (problems: Array<{ field: string }>) => problems.map((p) => p.field);

const semver = (labelTemplate = '{{branch}}', releaseBranch = 'release') =>
  `version:\n  semver:\n    major: 5\n    minor: 3\n    patch: '6'\n    labelTemplate: '${labelTemplate}'\n    releaseBranch: '${releaseBranch}'\nstages:\n  build:\n    image: golang:1.22\n`;

describe('Estafette rules through estafette validate/plan --json', function () {
  this.timeout(120_000);
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'estafette-compat-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe(`version labels from branch names (${MANIFEST}: version.go, version_test.go)`, () => {
    const cases: Array<[string, string, string, string?]> = [
      ['ReturnsSemverWithBranchPlaceholderInLabelReplaced', 'alpha', '5.3.6-alpha'],
      ['ReturnsSemverWithLabelWithoutSlashIfBranchHasSlash', 'feature/foo', '5.3.6-feature-foo'],
      ['ReturnsSemverWithDNSSafeLabel', 'HOTFIX_production_deploy', '5.3.6-hotfix-production-deploy'],
      ['ReturnsSemverWithDNSSafeLabelForRevisionStartingWithNumber: branch 19.1.0 keeps its label', '19.1.0', '5.3.6-branch-19-1-0'],
      ['ReturnsSemverWithDNSSafeLabelStartingWithALetter', '123-HOTFIX_production_deploy', '5.3.6-branch-123-hotfix-production-deploy'],
      ['ReturnsSemverWithDNSSafeLabelOfMax63Characters', 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz123456789012', '5.3.6-abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz12345678901'],
      ['ReturnsSemverWithLabelHyphensTrimmedAtEnd', '-some-branch-surrounded-by-hyphens-', '5.3.6-some-branch-surrounded-by-hyphens'],
      ['ReturnsSemverWithoutLabelIfBranchMatchesReleaseBranch', 'release', '5.3.6'],
      ['ReturnsSemverWithoutLabelIfBranchMatchesReleaseBranchRegularExpression', 'release/abc', '5.3.6', 'release/.+'],
      ['ReturnsSemverWithLabelIfBranchDoesNotMatchReleaseBranchRegularExpression', 'release/abc', '5.3.6-release-abc', 'release/[0-9]+'],
    ];
    cases.forEach(([name, branch, version, releaseBranch]) =>
      it(`${name}: ${branch} → ${version}`, () => {
        const p = plan(semver('{{branch}}', releaseBranch), [`--branch=${branch}`, '--counter', '16']);
        expect(p.version.version).to.equal(version);
        expect(p.estafetteEnv.ESTAFETTE_BUILD_VERSION).to.equal(version);
      }),
    );

    it('ReturnsSemverWithDNSSafeLabelForBranchStartingWithNumber: {{revision}} starting with a digit gets the revision- prefix', () => {
      expect(plan(semver('{{revision}}'), ['--branch', '19.1.0']).version.version).to.equal('5.3.6-revision-219aae19153da2b20ac1d88e2fd68e0b20274be2');
    });

    it('ReturnsLabelTemplateWithAutoPlaceholderReplaced, in a label: {{auto}} gets the auto- prefix', () => {
      expect(plan(semver('{{auto}}'), ['--branch', 'x', '--counter', '5']).version.label).to.equal('auto-5');
    });
  });

  describe(`ESTAFETTE_GIT_BRANCH_DNS_SAFE (${BUILDER}: pkg/builder/envvar_helper.go makeDNSLabelSafe, envvar_helper_test.go)`, () => {
    const cases: Array<[string, string, string]> = [
      ['ReturnsValueIfAlreadySafeForDNSLabel', 'dns-safe-value', 'dns-safe-value'],
      ['ReturnsAllLowercaseIfHasUppercase', 'DNS-safe-value', 'dns-safe-value'],
      ['ReturnsCharactersOtherThanLettersDigitsOrHyphensAsHyphens', 'dns-safe.value', 'dns-safe-value'],
      ['ReturnsMultipleHyphensAsSingleHyphen', 'dns-safe--value', 'dns-safe-value'],
      ['ReturnsStartingWithLetter', '10-dns-safe-value', 'dns-safe-value'],
      ['ReturnsWithHyphensTrimmed', '-dns-safe-value-', 'dns-safe-value'],
      ['ReturnsTruncatedTo63Characters', 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl', 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk'],
      ['ReturnsTruncatedTo63CharactersWithHyphensTrimmed', 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij-l', 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij'],
      ['the same rule for branch 19.1.0: its leading digits go, leaving nothing', '19.1.0', ''],
    ];
    cases.forEach(([name, branch, safe]) =>
      it(`${name}: '${branch}' → '${safe}'`, () => {
        const p = plan('stages:\n  build:\n    image: golang:1.22\n', [`--branch=${branch}`]);
        expect(p.estafetteEnv.ESTAFETTE_GIT_BRANCH_DNS_SAFE).to.equal(safe);
        expect(p.stages[1].env.ESTAFETTE_GIT_BRANCH_DNS_SAFE).to.equal(safe);
      }),
    );
  });

  describe(`custom versions (${MANIFEST}: version.go SetDefaults, version_test.go ReturnsCustomVersionWithLabelTemplateDefaultingToRevisionPlaceholder)`, () => {
    it("labelTemplate: '' is valid and renders {{revision}}", () => {
      const yaml = "version:\n  custom:\n    labelTemplate: ''\nstages:\n  build:\n    image: golang:1.22\n";
      expect(validate(yaml)).to.include({ valid: true });
      expect(plan(yaml).version.version).to.equal('219aae19153da2b20ac1d88e2fd68e0b20274be2');
    });

    it('custom without labelTemplate renders {{revision}}', () => {
      expect(plan('version:\n  custom: {}\nstages:\n  build:\n    image: golang:1.22\n').version.version).to.equal('219aae19153da2b20ac1d88e2fd68e0b20274be2');
    });

    it('with semver beside it, custom wins (version.go Version) and the manifest stays valid', () => {
      const yaml = "version:\n  custom:\n    labelTemplate: 'v{{auto}}'\n  semver:\n    major: 1\nstages:\n  build:\n    image: golang:1.22\n";
      const v = validate(yaml);
      expect(v.valid).to.equal(true);
      expect(fields(v.warnings)).to.include('version');
      expect(plan(yaml, ['--counter', '7']).version.version).to.equal('v7');
    });

    it('empty semver patch and labelTemplate mean {{auto}} and {{branch}} (version.go SetDefaults)', () => {
      const yaml = "version:\n  semver:\n    major: 2\n    patch: ''\n    labelTemplate: ''\nstages:\n  build:\n    image: golang:1.22\n";
      expect(validate(yaml).valid).to.equal(true);
      expect(plan(yaml, ['--branch', 'feat', '--counter', '4']).version.version).to.equal('2.0.4-feat');
    });
  });

  describe(`build env (${BUILDER}: pkg/builder/envvar_helper.go; ${API}: pkg/services/estafette/service.go AutoIncrement)`, () => {
    it('ESTAFETTE_BUILD_VERSION_PATCH is the build counter, not the rendered patch', () => {
      const p = plan("version:\n  semver:\n    major: 1\n    minor: 4\n    patch: '0'\nstages:\n  build:\n    image: golang:1.22\n", ['--branch', 'main', '--counter', '16']);
      expect(p.version.version).to.equal('1.4.0');
      expect(p.estafetteEnv.ESTAFETTE_BUILD_VERSION_PATCH).to.equal('16');
      expect(p.estafetteEnv.ESTAFETTE_BUILD_CURRENT_COUNTER).to.equal('16');
    });

    it('ESTAFETTE_BUILD_DATETIME is RFC 3339 in UTC to the whole second (time.RFC3339)', () => {
      const p = plan('stages:\n  build:\n    image: golang:1.22\n');
      expect(p.estafetteEnv.ESTAFETTE_BUILD_DATETIME).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Math.abs(Date.parse(p.estafetteEnv.ESTAFETTE_BUILD_DATETIME) - Date.now())).to.be.lessThan(10 * 60_000);
    });
  });

  describe(`builder track and os (${MANIFEST}: builder.go validate, manifest_preferences.go, manifest_test.go TestValidate)`, () => {
    it('ReturnsErrorIfTrackIsNotDevBetaOrStable: nightly is an error at builder.track', () => {
      const v = validate('builder:\n  track: nightly\nstages:\n  build:\n    image: golang:1.22\n');
      expect(v.valid).to.equal(false);
      expect(fields(v.errors)).to.deep.equal(['builder.track']);
      expect(v.errors[0]).to.include({ line: 2, column: 3 });
    });

    ['dev', 'beta', 'stable'].forEach((track) =>
      it(`ReturnsNoErrorIfTrackIs${track[0]!.toUpperCase()}${track.slice(1)}`, () => {
        expect(validate(`builder:\n  track: ${track}\nstages:\n  build:\n    image: golang:1.22\n`).valid).to.equal(true);
      }),
    );

    it('windows takes only the nanoserver-1809 tracks; a linux track there is an error with its field', () => {
      expect(validate('builder:\n  os: windows\n  track: nanoserver-1809-beta\nstages:\n  build:\n    image: a:1\n').valid).to.equal(true);
      const v = validate('builder:\n  os: windows\n  track: stable\nstages:\n  build:\n    image: a:1\n');
      expect(fields(v.errors)).to.deep.equal(['builder.track']);
    });

    it("a release's builder is validated on its own (manifest.go Validate): its field path is named", () => {
      const v = validate('stages:\n  build:\n    image: a:1\nreleases:\n  prod:\n    builder:\n      track: edge\n    stages:\n      deploy:\n        image: a:1\n');
      expect(fields(v.errors)).to.deep.equal(['releases.prod.builder.track']);
    });

    it('ReturnsManifestWithBuilderTrackDefaultWindowsServerCore1809 / OS default linux: the default track follows the os', () => {
      expect(plan('builder:\n  os: windows\nstages:\n  build:\n    image: a:1\n').builder).to.include({ os: 'windows', track: 'nanoserver-1809-stable' });
      expect(plan('stages:\n  build:\n    image: a:1\n').builder).to.include({ os: 'linux', track: 'stable' });
    });

    it("ReturnsManifestWithReleaseBuilderIfOverridden: a release's builder replaces the top one as a whole", () => {
      const yaml =
        'builder:\n  os: windows\n  track: nanoserver-1809-dev\nstages:\n  build:\n    image: a:1\nreleases:\n  linux:\n    builder:\n      os: linux\n    stages:\n      d:\n        image: a:1\n  inherits:\n    stages:\n      d:\n        image: a:1\n';
      expect(plan(yaml, ['--release', 'linux']).builder).to.include({ os: 'linux', track: 'stable' });
      expect(plan(yaml, ['--release', 'inherits']).builder).to.include({ os: 'windows', track: 'nanoserver-1809-dev' });
    });
  });

  describe(`release triggers (${MANIFEST}: trigger.go SetDefaults, trigger_setDefaults_test.go TestEstafetteTriggerReleaseActionSetDefaults)`, () => {
    it("SetsTargetToTargetParam: a trigger's target is the release it is defined under, so naming another is valid", () => {
      const yaml =
        'stages:\n  build:\n    image: a:1\nreleases:\n  development:\n    triggers:\n    - pipeline:\n        name: self\n      releases:\n        target: any\n    stages:\n      deploy:\n        image: a:1\n';
      const v = validate(yaml);
      expect(v.valid).to.equal(true);
      expect(fields(v.warnings)).to.include('releases.development.triggers[0].releases.target');
      const t = plan(yaml).triggers[0];
      expect(t).to.deep.include({ scope: 'release', job: 'development' });
      expect(t.action).to.include({ kind: 'releases', target: 'development' });
    });

    it('SetsVersionToSameIfReleaseTriggerIsTheSelfPipeline: release {name: self} without a version releases the same version', () => {
      const yaml =
        'stages:\n  build:\n    image: a:1\nreleases:\n  staging:\n    stages:\n      d:\n        image: a:1\n  production:\n    triggers:\n    - release:\n        name: self\n        target: staging\n    stages:\n      d:\n        image: a:1\n';
      expect(validate(yaml).valid).to.equal(true);
      expect(plan(yaml).triggers[0].action).to.include({ target: 'production', version: 'same' });
    });

    it('SetsVersionToSameIfPipelineTriggerIsTheSelfPipeline, SetsVersionToLatestIfEmptyAndTriggersOnOtherPipeline, KeepsVersionIfNotEmpty', () => {
      const yaml =
        'stages:\n  build:\n    image: a:1\nreleases:\n  development:\n    triggers:\n    - pipeline: {name: self}\n    - pipeline: {name: github.com/estafette/estafette-ci-builder}\n    - pipeline: {name: self}\n      releases: {version: current}\n    stages:\n      d:\n        image: a:1\n';
      expect(plan(yaml).triggers.map((t: Json) => t.action.version)).to.deep.equal(['same', 'latest', 'current']);
    });
  });

  describe(`pipeline and release trigger status (${MANIFEST}: trigger.go EstafettePipelineTrigger.Validate, EstafetteReleaseTrigger.Validate)`, () => {
    const trigger = (filter: string) => `triggers:\n- ${filter}\nstages:\n  build:\n    image: a:1\n`;
    (['succeeded', 'failed'] as const).forEach((status) =>
      it(`event finished accepts status ${status}`, () => {
        expect(validate(trigger(`pipeline:\n    name: github.com/o/r\n    status: ${status}`)).valid).to.equal(true);
      }),
    );
    ['canceled', "'succeeded|failed'", 'running'].forEach((status) =>
      it(`event finished refuses status ${status}, with its field path`, () => {
        const v = validate(trigger(`pipeline:\n    name: github.com/o/r\n    status: ${status}`));
        expect(v.valid).to.equal(false);
        expect(fields(v.errors)).to.deep.equal(['triggers[0].pipeline.status']);
      }),
    );
    it('the default event is finished, so a bare bad status is refused too; event started ignores status', () => {
      expect(fields(validate(trigger('pipeline:\n    name: self\n    status: aborted')).errors)).to.deep.equal(['triggers[0].pipeline.status']);
      expect(validate(trigger('pipeline:\n    name: github.com/o/r\n    event: started\n    status: aborted')).valid).to.equal(true);
    });
    it('a release filter follows the same rule', () => {
      expect(fields(validate(trigger('release:\n    name: self\n    target: prod\n    status: canceled')).errors)).to.deep.equal(['triggers[0].release.status']);
    });
  });

  describe(`semver major and minor (${MANIFEST}: version.go EstafetteSemverVersion.Major int)`, () => {
    it('a huge major renders as its digits, never 1e+23', () => {
      const p = plan('version:\n  semver:\n    major: 9223372036854775807\n    minor: 12345678901234567\nstages:\n  build:\n    image: a:1\n', ['--branch', 'main', '--counter', '3']);
      expect(p.version.version).to.equal('9223372036854775807.12345678901234567.3');
      expect(p.estafetteEnv.ESTAFETTE_BUILD_VERSION_MAJOR).to.equal('9223372036854775807');
    });
    it('a major beyond a Go int is a lint error at version.semver.major', () => {
      const v = validate('version:\n  semver:\n    major: 100000000000000000000000\nstages:\n  build:\n    image: a:1\n');
      expect(v.valid).to.equal(false);
      expect(v.errors.map((e: Json) => [e.field, e.line])).to.deep.equal([['version.semver.major', 3]]);
      expect(JSON.stringify(v)).not.to.contain('e+');
    });
  });

  describe(`stage and service defaults (${MANIFEST}: stage.go, service.go SetDefaults)`, () => {
    it('an empty when, shell or workDir means the default', () => {
      const yaml = "stages:\n  build:\n    image: a:1\n    when: ''\n    shell: ''\n    workDir: ''\n";
      expect(validate(yaml).valid).to.equal(true);
      expect(plan(yaml).stages[1]).to.include({ when: "status == 'succeeded'", shell: '/bin/sh', workDir: '/estafette-work' });
    });
    it('a readiness probe on port 443 without a scheme uses https; port 0 means 80', () => {
      const yaml =
        'stages:\n  build:\n    image: a:1\n    services:\n    - name: tls\n      image: nginx:1\n      readinessProbe:\n        httpGet: {path: /, port: 443}\n    - name: plain\n      image: nginx:1\n      readiness: {path: /}\n';
      const services = plan(yaml).stages[1].services;
      expect(services[0].readiness).to.include({ scheme: 'https', port: 443, host: 'tls' });
      expect(services[1].readiness).to.include({ scheme: 'http', port: 80, host: 'plain', timeoutSeconds: 60 });
    });
  });
});
