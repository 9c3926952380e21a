/**
 * The kubernetes JobRunner through the real @kubernetes/client-node against an in-test server
 * speaking the Kubernetes REST contract (or a real cluster when KUBECONFIG is set).
 */
import { expect } from 'chai';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import { KubernetesJobRunner } from '../../../shared/k8s/kubernetes-runner.ts';
import { jobName, jobSelector } from '../../../shared/k8s/names.ts';
import { REQUIRED_RBAC } from '../../../shared/k8s/rbac.ts';
import { BatchV1Api, KubeConfig } from '@kubernetes/client-node';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import { sampleBuilderConfig } from '../../support/builder-config.ts';
import { describeJobRunner } from './runner-contract.ts';

const namespace = process.env.TEST_JOB_NAMESPACE ?? 'estafette-jobs';

if (process.env.KUBECONFIG) {
  describeJobRunner('kubernetes (KUBECONFIG cluster)', async () => {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    const batch = kc.makeApiClient(BatchV1Api);
    const runner = new KubernetesJobRunner(kc, { namespace });
    return {
      runner,
      count: async (ref) => (await batch.listNamespacedJob({ namespace, labelSelector: jobSelector(ref) })).items.filter((j) => !j.metadata?.deletionTimestamp).length,
      teardown: async () => {},
    };
  });
}

describeJobRunner('kubernetes (REST contract server)', async () => {
  const api = await new FakeKubeApi().start();
  const runner = new KubernetesJobRunner(api.kubeConfig(), { namespace });
  return {
    runner,
    count: async (ref) => api.jobs().filter((j) => j.metadata.name === jobName(ref)).length,
    teardown: () => api.stop(),
  };
});

describe('kubernetes JobRunner on the wire', () => {
  let api: FakeKubeApi;
  let runner: KubernetesJobRunner;
  const ref = { kind: 'build' as const, id: '42', repoOwner: 'estafette', repoName: 'estafette-ci-api' };
  beforeEach(async () => {
    api = await new FakeKubeApi().start();
    runner = new KubernetesJobRunner(api.kubeConfig(), { namespace });
  });
  afterEach(() => api.stop());

  it('sends a schema-valid Job and a Secret owned by it', async () => {
    await runner.start(ref, sampleBuilderConfig({ job: { kind: 'build', id: '42' } }));
    const jobReq = api.requests.find((r) => r.verb === 'create' && r.resource === 'jobs')!;
    const secretReq = api.requests.find((r) => r.verb === 'create' && r.resource === 'secrets')!;
    expect(() => new Job(jobReq.body).validate()).not.to.throw();
    expect(() => new Secret(secretReq.body).validate()).not.to.throw();
    const job = api.jobs()[0];
    expect(secretReq.body.metadata.ownerReferences[0].uid).to.equal(job.metadata.uid);
    expect(jobReq.body.spec).to.include({ backoffLimit: 0 });
    expect(jobReq.body.spec.template.spec.restartPolicy).to.equal('Never');
  });

  it('recovers when the Secret create failed once: the retried start completes the job', async () => {
    api.failNext = { resource: 'secrets', status: 500, count: 1 };
    const cfg = sampleBuilderConfig({ job: { kind: 'build', id: '42' } });
    let failed = false;
    await runner.start(ref, cfg).catch(() => (failed = true));
    expect(failed).to.equal(true);
    await runner.start(ref, cfg);
    expect(api.jobs()).to.have.length(1);
    expect([...api.objects.keys()].filter((k) => k.startsWith('/secrets/'))).to.have.length(1);
  });

  it('deletes the Job with a propagation policy and the Secret goes with it', async () => {
    await runner.start(ref, sampleBuilderConfig());
    await runner.cancel(ref);
    const del = api.requests.find((r) => r.verb === 'delete')!;
    expect(del.body?.propagationPolicy ?? del.query.propagationPolicy).to.equal('Background');
    expect(api.objects.size).to.equal(0);
  });

  const states: Array<[string, Record<string, unknown>, string]> = [
    ['active', { active: 1 }, 'running'],
    ['complete', { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }, 'succeeded'],
    ['deadline exceeded', { failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] }, 'failed'],
  ];
  states.forEach(([name, status, want]) =>
    it(`reads the job state: ${name} → ${want}`, async () => {
      await runner.start(ref, sampleBuilderConfig());
      api.setJobStatus(namespace, jobName(ref), status);
      expect(await runner.state(ref)).to.equal(want);
      expect((await runner.states()).get('build/42')).to.equal(want);
    }),
  );

  it('makes exactly the calls REQUIRED_RBAC allows, and uses every verb it grants', async () => {
    const cfg = sampleBuilderConfig();
    await runner.start(ref, cfg);
    await runner.start(ref, cfg); // AlreadyExists path
    await runner.state(ref);
    await runner.states();
    await runner.cancel(ref);
    const used = new Set(api.requests.map((r) => `${r.apiGroup}/${r.resource}/${r.verb}`));
    const granted = new Set(REQUIRED_RBAC.flatMap((rule) => rule.apiGroups.flatMap((g) => rule.resources.flatMap((res) => rule.verbs.map((v) => `${g}/${res}/${v}`)))));
    expect([...used].sort()).to.deep.equal([...granted].sort());
  });
});
