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
    ['label that starts with digits keeps them behind a prefix', { semver: {} }, p('123-fix'), { version: '0.0.7-branch-123-fix', label: 'branch-123-fix' }],
    ['label with runs of odd chars', { semver: {} }, p('Feature__X..Y//z'), { label: 'feature-x-y-z' }],
    ['label cut to 63 chars', { semver: {} }, p('a'.repeat(100)), { label: 'a'.repeat(63) }],
    ['label of digits only', { semver: {} }, p('1234'), { version: '0.0.7-branch-1234', label: 'branch-1234' }],
    ['label that becomes empty', { semver: {} }, p('-/-'), { version: '0.0.7', label: '' }],
    ['label with no placeholder starting with a digit', { semver: { labelTemplate: '2fast' } }, p('x'), { label: 'label-2fast' }],
    ['empty templates mean their defaults', { semver: { patch: '', labelTemplate: '', releaseBranch: [''] } }, p('feature'), { version: '0.0.7-feature' }],
    ['a major beyond a JavaScript number, as written', { semver: { major: '123456789012345678901', minor: 2 } }, p('main'), { version: '123456789012345678901.2.7' }],
    ['custom wins over semver', { custom: { labelTemplate: '{{auto}}' }, semver: { major: 3 } }, p('main', 5), { version: '5' }],
    ['an empty custom template means {{revision}}', { custom: { labelTemplate: '' } }, p('main', 1, 'abc'), { version: 'abc' }],
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
    // Estafette does not trim a hyphen left at the 63-char cut; versions must be the same.
    expect(tidyLabel('a'.repeat(62) + '-b')).to.equal('a'.repeat(62) + '-');
    expect(tidyLabel('a---b')).to.equal('a--b');
  });
});
