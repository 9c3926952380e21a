import { expect } from 'chai';
import { renderVersion, tidyLabel, type RenderedVersion } from '../../../shared/manifest/version.ts';
import type { ManifestVersion } from '../../../shared/manifest/types.ts';

const p = (branch: string, counter = 7, revision = 'f00dcafe') => ({ branch, revision, counter });

describe('renderVersion', () => {
  const cases: Array<[string, ManifestVersion | undefined, ReturnType<typeof p>, Partial<RenderedVersion>]> = [
    ['defaults on main', undefined, p('main'), { version: '0.0.7', label: '' }],
    ['defaults on master', {}, p('master'), { version: '0.0.7' }],
    ['defaults on a feature branch', undefined, p('feature/Add-Thing'), { version: '0.0.7-feature-add-thing', label: 'feature-add-thing' }],
    ['semver major/minor', { semver: { major: 1, minor: 2 } }, p('main', 42), { version: '1.2.42', major: '1', minor: '2', patch: '42' }],
    ['releaseBranch as a name', { semver: { major: 1, minor: 2, releaseBranch: ['release'] } }, p('main'), { version: '1.2.7-main' }],
    ['releaseBranch matched', { semver: { major: 1, minor: 2, releaseBranch: ['release'] } }, p('release'), { version: '1.2.7' }],
    ['releaseBranch as a regex', { semver: { releaseBranch: ['release/.+'] } }, p('release/1.x'), { version: '0.0.7' }],
    ['releaseBranch list', { semver: { releaseBranch: ['main', 'stable'] } }, p('stable'), { version: '0.0.7' }],
    ['fixed patch', { semver: { major: 1, minor: 4, patch: '0' } }, p('main'), { version: '1.4.0', patch: '0' }],
    ['label with auto', { semver: { major: 1, minor: 5, patch: '12', labelTemplate: '{{branch}}-{{auto}}', releaseBranch: ['1.5.12'] } }, p('main', 3), { version: '1.5.12-main-3' }],
    ['label with revision', { semver: { labelTemplate: '{{revision}}' } }, p('dev', 1, 'ABC123'), { version: '0.0.1-abc123' }],
    ['label that starts with digits', { semver: {} }, p('123-fix'), { version: '0.0.7-fix', label: 'fix' }],
    ['label with runs of odd chars', { semver: {} }, p('Feature__X..Y//z'), { label: 'feature-x-y-z' }],
    ['label cut to 63 chars', { semver: {} }, p('a'.repeat(100)), { label: 'a'.repeat(63) }],
    ['label that becomes empty', { semver: {} }, p('1234'), { version: '0.0.7', label: '' }],
    ['custom version', { custom: { labelTemplate: '{{branch}}-{{revision}}' } }, p('main', 1, 'abc'), { version: 'main-abc' }],
    ['custom version default', { custom: {} }, p('main', 1, 'abc'), { version: 'abc' }],
  ];
  cases.forEach(([name, version, params, want]) =>
    it(name, () => {
      const got = renderVersion(version, params);
      for (const [k, v] of Object.entries(want)) expect(got[k as keyof RenderedVersion], k).to.equal(v);
    }),
  );

  it('tidies labels into DNS-safe text', () => {
    expect(tidyLabel('--Feature/ÄÖ_x--')).to.equal('feature-x');
    expect(tidyLabel('a'.repeat(62) + '-b')).to.equal('a'.repeat(62));
  });
});
