/** Decrypting a Plan's secrets before it runs. */
import { expect } from 'chai';
import { load } from 'js-yaml';
import { decryptPlanSecrets } from '../../builder/plan-secrets.ts';
import { extensionEnv } from '../../shared/manifest/compile.ts';
import { encryptSecret, generateSecretKey, SecretNotAllowedError } from '../../shared/secrets/secret.ts';
import { planOf, service, stage } from '../fixtures/builder/plans.ts';

describe('plan secrets', () => {
  const key = generateSecretKey();
  const multi = 'line "one"\nline two';
  const props = { token: encryptSecret('tok-value', key), nested: { list: [encryptSecret(multi, key)] } };
  const plan = planOf([
    stage('ext', [], { customProperties: props, env: { ...extensionEnv(props), PLAIN: `x-${encryptSecret('plain-value', key)}-y` } }),
    stage('par', [], { parallelStages: [stage('child', ['true'], { env: { C: encryptSecret('child-value', key) } })] }),
    stage('svc', ['true'], { services: [service('db', ['true'], { env: { S: encryptSecret('service-value', key) } })] }),
  ]);

  it('decrypts env, custom properties, parallel children and services, and returns the values', () => {
    const { plan: p, values } = decryptPlanSecrets(plan, key);
    const ext = p.stages[0]!;
    expect(ext.env.PLAIN).to.equal('x-plain-value-y');
    expect(ext.env.ESTAFETTE_EXTENSION_TOKEN).to.equal('tok-value');
    expect(JSON.parse(ext.env.ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES!)).to.deep.equal({ token: 'tok-value', nested: { list: [multi] } });
    expect(load(ext.env.ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES_YAML!)).to.deep.equal({ token: 'tok-value', nested: { list: [multi] } });
    expect(ext.customProperties).to.deep.equal({ token: 'tok-value', nested: { list: [multi] } });
    expect(p.stages[1]!.parallelStages[0]!.env.C).to.equal('child-value');
    expect(p.stages[2]!.services[0]!.env.S).to.equal('service-value');
    expect(values).to.include.members(['tok-value', multi, 'plain-value', 'child-value', 'service-value']);
  });

  it('leaves the plan alone without a key', () => {
    expect(decryptPlanSecrets(plan, undefined).plan).to.equal(plan);
  });

  it('throws SecretNotAllowedError for a secret restricted to other pipelines', () => {
    const restricted = planOf([stage('s', ['true'], { env: { X: encryptSecret('v-1234', key, 'github.com/someone-else/.*') } })]);
    expect(() => decryptPlanSecrets(restricted, key)).to.throw(SecretNotAllowedError);
  });
});
