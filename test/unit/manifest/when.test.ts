import { expect } from 'chai';
import { checkWhen, decideWhen, evaluateWhen, parseWhen, whenEvent, whenParams, WhenError } from '../../../shared/manifest/when.ts';

const params = { status: 'succeeded', branch: 'main', action: 'deploy', trigger: 'git', server: 'estafette' };

describe('when language', () => {
  const truthTable: Array<[string, boolean, Record<string, string>?]> = [
    ["status == 'succeeded'", true],
    ["status == 'failed'", false],
    ["status != 'failed'", true],
    [`status == "succeeded"`, true],
    ["status == 'succeeded' && branch == 'main'", true],
    ["status == 'succeeded' && branch == 'dev'", false],
    ["status == 'failed' || branch == 'main'", true],
    ["status == 'failed' || branch == 'dev'", false],
    ["status == 'failed' || status == 'succeeded' && branch == 'dev'", false],
    ["(status == 'failed' || status == 'succeeded') && branch == 'main'", true],
    ["!(status == 'failed')", true],
    ['!true', false],
    ['true', true],
    ['false || true', true],
    ["branch =~ 'ma'", true],
    ["branch =~ '^ma$'", false],
    ["branch !~ '^release/'", true],
    ["branch =~ '^feature/'", true, { ...params, branch: 'feature/x' }],
    ["\n  status == 'succeeded' ||\n  status == 'failed'\n", true],
    ["server == 'estafette'", true],
    ["action == 'deploy' && trigger == 'git'", true],
    ["branch == 'it\\'s'", true, { ...params, branch: "it's" }],
    ["custom == 'x'", true, { ...params, custom: 'x' }],
  ];
  truthTable.forEach(([expr, want, p]) =>
    it(`${JSON.stringify(expr)} → ${want}`, () => {
      expect(checkWhen(expr, Object.keys(p ?? params))).to.equal(undefined);
      expect(evaluateWhen(expr, p ?? params)).to.equal(want);
    }),
  );

  it('expands ${ESTAFETTE_*} from env before evaluating, and only those', () => {
    expect(evaluateWhen("branch == '${ESTAFETTE_GIT_BRANCH}'", params, { ESTAFETTE_GIT_BRANCH: 'main' })).to.equal(true);
    expect(evaluateWhen("branch == '${ESTAFETTE_GIT_BRANCH}'", params, { ESTAFETTE_GIT_BRANCH: 'dev' })).to.equal(false);
    expect(evaluateWhen("branch == '${HOME}'", { ...params, branch: '${HOME}' }, { HOME: 'main' })).to.equal(true);
  });

  const rejected: Array<[string, RegExp]> = [
    ['', /empty/],
    ['status == ', /end of expression/],
    ["status = 'x'", /unexpected character '='/],
    ["status == 'x", /unterminated string/],
    ["(status == 'x'", /expected '\)'/],
    ["status == 'x')", /unexpected '\)'/],
    ["exec('rm -rf /')", /unknown function 'exec'/],
    ["status == 'x'; process.exit(1)", /unexpected character ';'/],
    ["'succeeded'", /not evaluate to a boolean/],
    ['status', /not evaluate to a boolean/],
    ["unknown == 'x'", /unknown parameter 'unknown'/],
    ['!status', /'!' needs a boolean/],
    ['status && true', /needs boolean operands/],
    ['status == true', /compares a string with a boolean/],
    ["branch =~ '('", /invalid regular expression/],
    ['status == 1', /numbers are not supported/],
    ["status == 'a' == 'b'", /chained comparison/],
    ['x'.repeat(5000), /longer than/],
    ['('.repeat(200) + 'true' + ')'.repeat(200), /nested too deeply/],
  ];
  rejected.forEach(([expr, msg]) =>
    it(`rejects ${JSON.stringify(expr.slice(0, 40))}`, () => {
      expect(checkWhen(expr)).to.match(msg);
      expect(() => evaluateWhen(expr, params)).to.throw(WhenError, msg);
    }),
  );

  it('reports the position of a syntax error', () => {
    try {
      parseWhen("status == 'x' &&& true");
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(WhenError);
      expect((err as WhenError).position).to.equal(16);
      expect((err as Error).message).to.match(/position 16/);
    }
  });

  it('binds ! tighter than comparison, as govaluate does', () => {
    expect(checkWhen("!status == 'x'")).to.match(/'!' needs a boolean/);
  });
});

describe("when: event == 'pull_request'", () => {
  // The env a run's plan carries (compile.ts: ESTAFETTE_TRIGGER_EVENT and the trigger's fields).
  const cases: Array<{ name: string; env: Record<string, string>; event: string }> = [
    { name: 'a branch push', env: { ESTAFETTE_TRIGGER_EVENT: 'git', ESTAFETTE_TRIGGER_GIT_EVENT: 'push' }, event: 'push' },
    { name: 'a tag push', env: { ESTAFETTE_TRIGGER_EVENT: 'git', ESTAFETTE_TRIGGER_GIT_EVENT: 'tag' }, event: 'tag' },
    { name: "a fork's pull request", env: { ESTAFETTE_TRIGGER_EVENT: 'pull_request', ESTAFETTE_TRIGGER_PULL_REQUEST_NUMBER: '7' }, event: 'pull_request' },
    { name: 'a manual build', env: { ESTAFETTE_TRIGGER_EVENT: 'manual' }, event: 'manual' },
  ];
  cases.forEach((c) =>
    it(`${c.name} has event '${c.event}'`, () => {
      expect(whenEvent(c.env)).to.equal(c.event);
      const p = { ...params, event: whenEvent(c.env) };
      expect(evaluateWhen("event == 'pull_request'", p)).to.equal(c.event === 'pull_request');
    }),
  );

  it('is among the parameters a run passes (whenParams)', () => {
    const plan = { branch: 'pull/7/head', estafetteEnv: { ESTAFETTE_TRIGGER_EVENT: 'pull_request' } };
    expect(whenParams(plan, 'succeeded')).to.include({ event: 'pull_request', trigger: 'pull_request' });
    expect(decideWhen(plan, "event == 'pull_request'", {}, 'succeeded')).to.equal(true);
    expect(decideWhen({ ...plan, estafetteEnv: { ESTAFETTE_TRIGGER_EVENT: 'git', ESTAFETTE_TRIGGER_GIT_EVENT: 'push' } }, "event == 'pull_request'", {}, 'succeeded')).to.equal(false);
  });

  it('is a parameter every manifest may use (lint accepts it)', () => {
    expect(checkWhen("event == 'pull_request'")).to.equal(undefined);
    expect(checkWhen("event != 'pull_request' && status == 'succeeded'")).to.equal(undefined);
  });
});
