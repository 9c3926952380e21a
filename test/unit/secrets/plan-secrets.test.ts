/**
 * A Plan's secrets from the master key (build-dispatch, openPlanSecrets) to their values in the
 * plan the builder runs (applyPlanSecrets), without the builder ever holding the key.
 */
import { expect } from 'chai';
import { load } from 'js-yaml';
import { extensionEnv } from '../../../shared/manifest/compile.ts';
import { applyPlanSecrets, openPlanSecrets, planEnvelopes } from '../../../shared/secrets/plan-secrets.ts';
import { encryptSecret, generateSecretKey } from '../../../shared/secrets/secret.ts';
import { planOf, service, stage } from '../../fixtures/builder/plans.ts';

describe('plan secrets', () => {
  const key = generateSecretKey();
  const multi = 'line "one"\nline two';
  const props = { token: encryptSecret('tok-value', key), nested: { list: [encryptSecret(multi, key)] } };
  const plain = encryptSecret('plain-value', key);
  const plan = planOf([
    stage('ext', [], { customProperties: props, env: { ...extensionEnv(props), PLAIN: `x-${plain}-y`, AGAIN: plain } }),
    stage('par', [], { parallelStages: [stage('child', ['true'], { env: { C: encryptSecret('child-value', key) } })] }),
    stage('svc', ['true'], { services: [service('db', ['true'], { env: { S: encryptSecret('service-value', key) } })] }),
  ]);

  it('finds every distinct envelope of env, custom properties, parallel children and services', () => {
    expect(planEnvelopes(plan)).to.have.length(5);
  });

  it('opens them with the key into values by envelope, and applying them needs no key', () => {
    const secrets = openPlanSecrets(plan, key);
    expect(secrets.refused).to.equal(undefined);
    expect(Object.values(secrets.values)).to.have.members(['tok-value', multi, 'plain-value', 'child-value', 'service-value']);
    const { plan: p, values } = applyPlanSecrets(plan, secrets);
    const ext = p.stages[0]!;
    expect(ext.env.PLAIN).to.equal('x-plain-value-y');
    expect(ext.env.AGAIN).to.equal('plain-value');
    expect(ext.env.ESTAFETTE_EXTENSION_TOKEN).to.equal('tok-value');
    expect(JSON.parse(ext.env.ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES!)).to.deep.equal({ token: 'tok-value', nested: { list: [multi] } });
    expect(load(ext.env.ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES_YAML!)).to.deep.equal({ token: 'tok-value', nested: { list: [multi] } });
    expect(ext.customProperties).to.deep.equal({ token: 'tok-value', nested: { list: [multi] } });
    expect(p.stages[1]!.parallelStages[0]!.env.C).to.equal('child-value');
    expect(p.stages[2]!.services[0]!.env.S).to.equal('service-value');
    expect(values).to.include.members(['tok-value', multi, 'plain-value', 'child-value', 'service-value']);
  });

  it('without a key opens nothing and the plan keeps its envelopes', () => {
    const secrets = openPlanSecrets(plan, undefined);
    expect(secrets).to.deep.equal({ values: {} });
    expect(applyPlanSecrets(plan, secrets).plan).to.equal(plan);
  });

  it('refuses every value of a plan using a secret restricted to other pipelines, naming the restriction', () => {
    const restricted = planOf([stage('s', ['true'], { env: { OK: encryptSecret('ok-value', key), X: encryptSecret('v-1234', key, 'github.com/someone-else/.*') } })]);
    const secrets = openPlanSecrets(restricted, key);
    expect(secrets.values).to.deep.equal({});
    expect(secrets.refused).to.match(/restricted to pipelines matching 'github.com\/someone-else\/\.\*' and cannot be used by github.com\/estafette\/demo/);
    expect(secrets.refused).to.not.include('v-1234');
  });

  it('refuses a secret sealed with another key', () => {
    const other = planOf([stage('s', ['true'], { env: { X: encryptSecret('v-1234', generateSecretKey()) } })]);
    expect(openPlanSecrets(other, key).refused).to.match(/cannot be decrypted/);
  });

  it('treats a custom-properties variable set by hand to something that is not JSON as plain text', () => {
    const e = encryptSecret('hand-value', key);
    const p = planOf([stage('s', ['true'], { env: { ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES: `not json ${e}` } })]);
    expect(applyPlanSecrets(p, openPlanSecrets(p, key)).plan.stages[0]!.env.ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES).to.equal('not json hand-value');
  });
});
