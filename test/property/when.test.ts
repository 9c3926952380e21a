/**
 * Properties of the `when` language (fast-check; seed and runs in test/support/property.ts): the
 * parser never fails with anything but a WhenError; any well-typed expression, printed and parsed
 * back, evaluates to what a reference evaluator of the same tree says, for every status, branch
 * and action; checkWhen accepts exactly those; and `&&` binds tighter than `||` as in govaluate.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { checkWhen, evaluateWhen, expandEstafetteVars, parseWhen, WhenError } from '../../shared/manifest/when.ts';
import { propertyParams } from '../support/property.ts';

type Str = { k: 'param'; name: 'status' | 'branch' | 'action' | 'trigger' | 'server' } | { k: 'lit'; value: string };
type Bool = { k: 'const'; value: boolean } | { k: 'not'; e: Bool } | { k: 'and' | 'or'; l: Bool; r: Bool } | { k: 'eq' | 'ne'; l: Str; r: Str } | { k: 'match' | 'nomatch'; l: Str; pattern: string };

const literal = fc.oneof(fc.constantFrom('succeeded', 'failed', 'main', 'master', 'release/1.0', 'deploy', 'git', 'cron', 'estafette', ''), fc.string({ maxLength: 8 }));
const str: fc.Arbitrary<Str> = fc.oneof(
  fc.constantFrom('status', 'branch', 'action', 'trigger', 'server').map((name) => ({ k: 'param' as const, name })),
  literal.map((value) => ({ k: 'lit' as const, value })),
);
const pattern = fc.constantFrom('^main$', 'main', '^release/.+', 'succ', 'fail|succ', '^$', '.*', '[0-9]+', 'dep(loy)?');

const bool = fc.letrec<{ b: Bool }>((tie) => ({
  b: fc.oneof(
    { depthSize: 'small', maxDepth: 5 },
    fc.boolean().map((value) => ({ k: 'const' as const, value })),
    fc.record({ k: fc.constantFrom('eq' as const, 'ne' as const), l: str, r: str }),
    fc.record({ k: fc.constantFrom('match' as const, 'nomatch' as const), l: str, pattern }),
    tie('b').map((e) => ({ k: 'not' as const, e })),
    fc.record({ k: fc.constantFrom('and' as const, 'or' as const), l: tie('b'), r: tie('b') }),
  ),
})).b;

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const printStr = (s: Str) => (s.k === 'param' ? s.name : quote(s.value));
function print(b: Bool): string {
  switch (b.k) {
    case 'const':
      return String(b.value);
    case 'not':
      return `!(${print(b.e)})`;
    case 'and':
      return `(${print(b.l)}) && (${print(b.r)})`;
    case 'or':
      return `(${print(b.l)}) || (${print(b.r)})`;
    case 'eq':
      return `${printStr(b.l)} == ${printStr(b.r)}`;
    case 'ne':
      return `${printStr(b.l)} != ${printStr(b.r)}`;
    case 'match':
      return `${printStr(b.l)} =~ ${quote(b.pattern)}`;
    case 'nomatch':
      return `${printStr(b.l)} !~ ${quote(b.pattern)}`;
  }
}

type Params = Record<'status' | 'branch' | 'action' | 'trigger' | 'server', string>;
const valueFor = (s: Str, p: Params) => (s.k === 'param' ? p[s.name] : s.value);
function reference(b: Bool, p: Params): boolean {
  switch (b.k) {
    case 'const':
      return b.value;
    case 'not':
      return !reference(b.e, p);
    case 'and':
      return reference(b.l, p) && reference(b.r, p);
    case 'or':
      return reference(b.l, p) || reference(b.r, p);
    case 'eq':
      return valueFor(b.l, p) === valueFor(b.r, p);
    case 'ne':
      return valueFor(b.l, p) !== valueFor(b.r, p);
    case 'match':
      return new RegExp(b.pattern).test(valueFor(b.l, p));
    case 'nomatch':
      return !new RegExp(b.pattern).test(valueFor(b.l, p));
  }
}

const params: fc.Arbitrary<Params> = fc.record({
  status: fc.constantFrom('succeeded', 'failed'),
  branch: fc.oneof(fc.constantFrom('main', 'master', 'release/1.0', 'feature/x'), fc.string({ maxLength: 10 })),
  action: fc.constantFrom('', 'deploy', 'rollback'),
  trigger: fc.constantFrom('', 'git', 'cron', 'pipeline'),
  server: fc.constant('estafette'),
});

describe('property: when expressions', () => {
  it('parsing any text either succeeds or fails with a WhenError, never anything else', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.array(fc.constantFrom('status', 'branch', '==', '!=', '=~', '!~', '&&', '||', '!', '(', ')', "'x'", '"y"', 'true', ' ', '${ESTAFETTE_GIT_BRANCH}', '\\'), { maxLength: 12 }).map((t) => t.join(' ')),
    );
    fc.assert(
      fc.property(text, (expr) => {
        try {
          parseWhen(expr);
        } catch (err) {
          expect(err).to.be.instanceOf(WhenError);
        }
        const problem = checkWhen(expr);
        expect(problem === undefined || typeof problem === 'string').to.equal(true);
      }),
      propertyParams(),
    );
  });

  it('a well-typed expression, printed and parsed, evaluates as the reference says, and lints clean', () => {
    fc.assert(
      fc.property(bool, params, (b, p) => {
        const expr = print(b);
        expect(checkWhen(expr), expr).to.equal(undefined);
        expect(evaluateWhen(expr, p), expr).to.equal(reference(b, p));
      }),
      propertyParams(),
    );
  });

  it('&& binds tighter than ||, and ! tighter than both', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.boolean(), fc.boolean(), (a, b, c) => {
        const p = { status: 'succeeded', branch: '', action: '', trigger: '', server: 'estafette' };
        expect(evaluateWhen(`${a} || ${b} && ${c}`, p)).to.equal(a || (b && c));
        expect(evaluateWhen(`${a} && ${b} || ${c}`, p)).to.equal((a && b) || c);
        expect(evaluateWhen(`!${a} && ${b}`, p)).to.equal(!a && b);
      }),
      propertyParams(0.2),
    );
  });

  it('${ESTAFETTE_*} expands from env (empty when unset) and nothing else is touched', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z_]{1,8}$/), fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), (name, value, rest) => {
        const env = { [`ESTAFETTE_${name}`]: value };
        expect(expandEstafetteVars(`\${ESTAFETTE_${name}}|${rest}`, env)).to.equal(`${value}|${expandEstafetteVars(rest, env)}`);
        expect(expandEstafetteVars(`\${OTHER_${name}}`, env)).to.equal(`\${OTHER_${name}}`);
      }),
      propertyParams(),
    );
  });
});
