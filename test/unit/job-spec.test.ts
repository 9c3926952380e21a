import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import { buildConfigSecret, buildJob, jobDeadlineSeconds } from '../../shared/k8s/job-spec.ts';
import { jobName } from '../../shared/k8s/names.ts';
import { sampleBuilderConfig } from '../support/builder-config.ts';

const ref = { kind: 'build' as const, id: '1234567890', repoOwner: 'estafette', repoName: 'estafette-ci-api' };

describe('builder Job spec', () => {
  it('matches the expected Job for a docker-executor build', () => {
    const expected = JSON.parse(readFileSync(new URL('../fixtures/jobs/build-job.json', import.meta.url), 'utf8'));
    expect(buildJob(ref, sampleBuilderConfig())).to.deep.equal(expected);
  });

  it("a job's deadline (its token's life) is the Job's activeDeadlineSeconds plus its termination grace, from the Job options", () => {
    expect(jobDeadlineSeconds()).to.equal(2 * 60 * 60 + 30);
    expect(jobDeadlineSeconds({ activeDeadlineSeconds: 600 })).to.equal(630);
    expect(jobDeadlineSeconds({ activeDeadlineSeconds: 600, terminationGracePeriodSeconds: 5 })).to.equal(605);
    expect(jobDeadlineSeconds({ activeDeadlineSeconds: 'soon', terminationGracePeriodSeconds: -1 }), 'nonsense falls back to the defaults').to.equal(2 * 60 * 60 + 30);
  });

  it('validates against the Kubernetes batch/v1 Job schema', () => {
    expect(() => new Job(buildJob(ref, sampleBuilderConfig()) as any).validate()).not.to.throw();
    expect(() => new Job(buildJob(ref, sampleBuilderConfig({ executor: 'host' })) as any).validate()).not.to.throw();
  });

  it('the schema check itself rejects a broken Job (the test can fail)', () => {
    const broken: any = buildJob(ref, sampleBuilderConfig());
    broken.spec.template.spec.containers[0].name = 42;
    expect(() => new Job(broken).validate()).to.throw();
  });

  it('builds a schema-valid config Secret owned by the Job', () => {
    const secret = buildConfigSecret(ref, sampleBuilderConfig(), { name: jobName(ref), uid: 'u-1' });
    expect(() => new Secret(secret as any).validate()).not.to.throw();
    expect(secret.metadata?.ownerReferences?.[0]).to.include({ kind: 'Job', uid: 'u-1', name: jobName(ref) });
    expect(JSON.parse(secret.stringData!['builder-config.json']).ingest.token).to.equal('job-token');
  });

  it('mounts the config Secret (job token, secret values) only into the builder container, never into the dind sidecar that runs stages and services', () => {
    const cfg = sampleBuilderConfig({ secrets: { values: { 'estafette.secret(abc.def)': 'the-value' } } });
    const pod = buildJob(ref, cfg).spec!.template.spec!;
    const mountsOf = (c: { volumeMounts?: Array<{ name: string }> }) => (c.volumeMounts ?? []).map((m) => m.name);
    expect(pod.containers.map((c) => [c.name, mountsOf(c)])).to.deep.equal([['builder', ['config', 'work', 'tmp']]]);
    expect(pod.initContainers!.map((c) => [c.name, mountsOf(c)])).to.deep.equal([['dind', ['work']]]);
    for (const c of [...pod.containers, ...pod.initContainers!]) {
      expect(
        (c.env ?? []).map((e) => e.name),
        `${c.name} env`,
      ).to.not.include('ESTAFETTE_SECRET_KEY');
      expect(c.envFrom, `${c.name} envFrom`).to.equal(undefined);
    }
    const secret = buildConfigSecret(ref, cfg, { name: jobName(ref), uid: 'u-1' });
    expect(JSON.parse(secret.stringData!['builder-config.json']).secrets.values).to.deep.equal({ 'estafette.secret(abc.def)': 'the-value' });
  });

  it('uses a memory work dir when the manifest asks for it', () => {
    const cfg = sampleBuilderConfig();
    cfg.plan.builder.medium = 'memory';
    const vol = buildJob(ref, cfg).spec!.template.spec!.volumes!.find((v) => v.name === 'work');
    expect(vol?.emptyDir).to.deep.equal({ medium: 'Memory' });
  });

  const names: Array<[string, typeof ref, string]> = [
    ['plain', ref, 'build-estafette-estafette-ci-api-1234567890'],
    ['uppercase and dots', { ...ref, repoOwner: 'My.Org', repoName: 'Repo_Name' }, 'build-my-org-repo-name-1234567890'],
    ['too long: repo part cut, id kept', { ...ref, repoName: 'x'.repeat(80) }, `build-estafette-${'x'.repeat(63 - 'build-estafette-'.length - 11)}-1234567890`],
    ['release', { ...ref, kind: 'release' as any }, 'release-estafette-estafette-ci-api-1234567890'],
  ];
  names.forEach(([name, r, want]) =>
    it(`names the job: ${name}`, () => {
      const got = jobName(r);
      expect(got).to.equal(want);
      expect(got.length).to.be.at.most(63);
      expect(got).to.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }),
  );
});
