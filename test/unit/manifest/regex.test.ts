import { expect } from 'chai';
import { compileUserRegex, unsafeRegexReason } from '../../../shared/manifest/regex.ts';
import { matchPattern } from '../../../shared/manifest/triggers.ts';
import { checkWhen } from '../../../shared/manifest/when.ts';
import { loadManifest } from '../../../shared/manifest/load.ts';

describe('manifest regexes', () => {
  const unsafe = ['(a+)+$', '(a*)*b', '(.*)+', '((ab)+)+', '(x+){2,}', '(?:a|b+)*', 'x'.repeat(2000)];
  unsafe.forEach((p) => it(`refuses ${p.slice(0, 20)}`, () => expect(unsafeRegexReason(p)).to.be.a('string')));
  const safe = ['master|main', 'feature/.+', 'release/v[0-9]+\\.[0-9]+', '(a|b)+', '(abc)*', '[(a+)]+', '\\(a+\\)+', 'github.com/estafette/.*'];
  safe.forEach((p) =>
    it(`accepts ${p}`, () => {
      expect(unsafeRegexReason(p)).to.equal(undefined);
      expect(() => compileUserRegex(p)).not.to.throw();
    }),
  );

  it('never runs an unsafe pattern against input', () => {
    const started = Date.now();
    expect(matchPattern('(a+)+b', 'a'.repeat(40))).to.equal(false);
    expect(Date.now() - started).to.be.lessThan(500);
  });

  it('reports unsafe patterns in lint and in when expressions', () => {
    expect(checkWhen("branch =~ '(a+)+b'")).to.match(/exponential/);
    const r = loadManifest("stages:\n  s:\n    image: a:1\ntriggers:\n- pipeline:\n    name: self\n    branch: '(a+)+'\n");
    expect(r.errors.map((e) => [e.field, /exponential/.test(e.message)])).to.deep.equal([['triggers[0].pipeline.branch', true]]);
  });
});
