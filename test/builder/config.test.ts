/** Validation of the builder config at the edge. */
import { expect } from 'chai';
import { ingestOf, parseBuilderConfig } from '../../builder/config.ts';
import { ValidationError } from '../../shared/errors/http-error.ts';
import { configOf, planOf, service, stage } from '../fixtures/builder/plans.ts';

const valid = (): any => JSON.parse(JSON.stringify(configOf(planOf([stage('build', ['true'], { services: [service('db', ['true'])] })]), '/tmp/w'))) as any;

describe('builder config', () => {
  it('accepts a complete config', () => {
    const c = valid();
    expect(parseBuilderConfig(c)).to.equal(c);
  });

  const cases: Array<{ name: string; mutate: (c: any) => void; problem: string }> = [
    { name: 'not an object', mutate: () => undefined, problem: 'config must be an object' },
    { name: 'unknown job kind', mutate: (c) => (c.job.kind = 'deploy'), problem: 'job.kind must be one of build, release, bot' },
    { name: 'missing ingest token', mutate: (c) => delete c.ingest.token, problem: 'ingest.token must be a string' },
    { name: 'clone not boolean', mutate: (c) => (c.git.clone = 'yes'), problem: 'git.clone must be a boolean' },
    { name: 'a branch git would read as an option', mutate: (c) => (c.git.branch = '--upload-pack=touch /tmp/pwned'), problem: 'git.branch is not a valid git ref name: "--upload-pack=touch /tmp/pwned"' },
    { name: 'a revision git would read as an option', mutate: (c) => (c.git.revision = '--output=/tmp/x'), problem: 'git.revision is not a valid git revision: "--output=/tmp/x"' },
    { name: 'env value not a string', mutate: (c) => (c.plan.stages[0].env.N = 1), problem: 'plan.stages[0].env must map names to strings' },
    { name: 'negative retries', mutate: (c) => (c.plan.stages[0].retries = -1), problem: 'plan.stages[0].retries must be a non-negative number' },
    {
      name: 'nested parallel stages',
      mutate: (c) => (c.plan.stages[0].parallelStages = [{ ...structuredClone(c.plan.stages[0]), parallelStages: [structuredClone(c.plan.stages[0])] }]),
      problem: 'plan.stages[0].parallelStages[0].parallelStages: only one level',
    },
    { name: 'bad readiness', mutate: (c) => (c.plan.stages[0].services[0].readiness = { kind: 'tcp', timeoutSeconds: 1 }), problem: "plan.stages[0].services[0].readiness.kind must be 'http' or 'exec'" },
    { name: 'service without multiStage', mutate: (c) => delete c.plan.stages[0].services[0].multiStage, problem: 'plan.stages[0].services[0].multiStage must be a boolean' },
  ];
  cases.forEach((c) =>
    it(`rejects ${c.name}, naming the field`, () => {
      const cfg = c.name === 'not an object' ? 'text' : valid();
      c.mutate(cfg);
      expect(() => parseBuilderConfig(cfg))
        .to.throw(ValidationError)
        .with.property('message')
        .that.includes(c.problem);
    }),
  );

  const ingest: Array<{ name: string; raw: unknown; usable: boolean }> = [
    { name: 'complete', raw: { job: { kind: 'build', id: '7' }, ingest: { url: 'http://log-ingest', token: 't' } }, usable: true },
    { name: 'no job id', raw: { job: { kind: 'build' }, ingest: { url: 'http://log-ingest', token: 't' } }, usable: false },
    { name: 'not a URL', raw: { job: { kind: 'build', id: '7' }, ingest: { url: 'log-ingest', token: 't' } }, usable: false },
    { name: 'nothing', raw: null, usable: false },
  ];
  ingest.forEach((c) => it(`ingest of an invalid config: ${c.name} → ${c.usable ? 'usable' : 'unusable'}`, () => expect(ingestOf(c.raw) !== undefined).to.equal(c.usable)));
});
