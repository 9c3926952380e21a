/**
 * Properties of version rendering (fast-check; seed and runs in test/support/property.ts): for any
 * branch, revision and counter the default version is valid semver, the label and
 * ESTAFETTE_GIT_BRANCH_DNS_SAFE keep to DNS-label characters and length, a branch starting with a
 * letter is its own tidied label, a leading digit is kept behind the placeholder's name, release
 * branches get no label, and any major/minor up to Go's int renders as its digits.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { dnsSafe, renderVersion, tidyLabel, MAX_VERSION_NUMBER } from '../../shared/manifest/version.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import { propertyParams } from '../support/property.ts';

// semver.org's regular expression for a version (pre-release and build metadata included).
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

const branch = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ maxLength: 80, unit: 'grapheme' }),
  fc.stringMatching(/^[0-9][0-9.]{0,10}$/),
  fc.constantFrom('main', 'master', 'feature/Login', 'HOTFIX_x', '19.1.0', '-x-', 'release/1.2', 'ÄÖÜ', '__', '--a--'),
);
const revision = fc.stringMatching(/^[0-9a-f]{40}$/);
const counter = fc.nat({ max: 1_000_000 });

describe('property: version rendering', () => {
  it('the default version is semver; the label is DNS-safe and never starts with a digit or hyphen', () => {
    fc.assert(
      fc.property(branch, revision, counter, (b, r, n) => {
        const v = renderVersion(undefined, { branch: b, revision: r, counter: n });
        expect(v.version, JSON.stringify(b)).to.match(SEMVER);
        expect(v.label).to.match(/^([a-z][a-z0-9-]*)?$/);
        expect(v.label.length).to.be.at.most(63);
        expect(v.patch).to.equal(String(n));
      }),
      propertyParams(),
    );
  });

  it('a branch that starts with a digit always keeps a label, behind branch-', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9][0-9a-z./_-]{0,20}$/), (b) => {
        const v = renderVersion({ semver: { releaseBranch: ['never'] } }, { branch: b, revision: 'a', counter: 1 });
        expect(v.label.startsWith('branch-'), b).to.equal(true);
        expect(v.label).to.equal(tidyLabel(`branch-${b}`));
      }),
      propertyParams(),
    );
  });

  it('a branch that starts with a letter is its own tidied label; release branches get none', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9./_-]{0,70}$/), (b) => {
        expect(renderVersion({ semver: { releaseBranch: ['never'] } }, { branch: b, revision: 'a', counter: 1 }).label).to.equal(tidyLabel(b));
        expect(renderVersion({ semver: { releaseBranch: [b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')] } }, { branch: b, revision: 'a', counter: 1 }).label).to.equal('');
      }),
      propertyParams(),
    );
  });

  it('ESTAFETTE_GIT_BRANCH_DNS_SAFE is a valid DNS label or empty', () => {
    fc.assert(
      fc.property(branch, (b) => {
        const safe = dnsSafe(b);
        expect(safe, JSON.stringify(b)).to.match(/^([a-z]([a-z0-9-]*[a-z0-9])?)?$/);
        expect(safe.length).to.be.at.most(63);
      }),
      propertyParams(),
    );
  });

  it("any major and minor from 0 to Go's largest int render as their digits; beyond, lint refuses them", () => {
    const big = fc.bigInt({ min: 0n, max: MAX_VERSION_NUMBER * 2n });
    fc.assert(
      fc.property(big, big, counter, (major, minor, n) => {
        const r = loadManifest(`version:\n  semver:\n    major: ${major}\n    minor: ${minor}\nstages:\n  a:\n    image: a:1\n`);
        if (major > MAX_VERSION_NUMBER || minor > MAX_VERSION_NUMBER) {
          expect(r.errors.map((e) => e.field)).to.include(major > MAX_VERSION_NUMBER ? 'version.semver.major' : 'version.semver.minor');
          return;
        }
        expect(r.errors).to.deep.equal([]);
        expect(renderVersion(r.manifest!.version, { branch: 'main', revision: 'a', counter: n }).version).to.equal(`${major}.${minor}.${n}`);
      }),
      propertyParams(0.5),
    );
  });
});
