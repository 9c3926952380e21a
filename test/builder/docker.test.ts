/**
 * The shared executor suite against the docker executor, on the engine at DOCKER_HOST (or the
 * default socket), with the locally built `estafette-test/busybox:1` image (FROM scratch +
 * busybox). Skips loudly when no engine answers (see docker-engine.ts for when it fails instead).
 */
import { expect } from 'chai';
import Docker from 'dockerode';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDockerExecutor, DOCKER_LABELS } from '../../builder/executors/docker.ts';
import { runBuild } from '../../builder/run-build.ts';
import { configOf, planOf, stage } from '../fixtures/builder/plans.ts';
import { collectingReporter } from './collecting-reporter.ts';
import { dockerUnavailable, skipWithoutDocker, TEST_IMAGE } from './docker-engine.ts';
import { describeExecutor } from './executor-suite.ts';

const IMAGE = TEST_IMAGE;

describeExecutor('docker', async (ctx) => {
  const docker = new Docker();
  const reason = await dockerUnavailable(docker);
  if (reason) skipWithoutDocker(ctx, "executor suite 'docker'", reason);
  return {
    create: () => createDockerExecutor(docker),
    image: IMAGE,
    missingImage: 'estafette-test/does-not-exist:0',
    httpService: (port, delay) => ({
      image: IMAGE,
      shell: '/bin/sh',
      commands: [`sleep ${delay}`, 'mkdir -p /tmp/www', 'echo pong > /tmp/www/index.html', `exec httpd -f -p ${port} -h /tmp/www`],
    }),
    serviceHost: (name) => name,
    httpGet: (url) => `wget -qO- ${url}`,
    hostPids: false,
    leftovers: async (jobId) => {
      const filters = { label: [`${DOCKER_LABELS.jobId}=${jobId}`] };
      const [containers, networks] = await Promise.all([docker.listContainers({ all: true, filters }), docker.listNetworks({ filters })]);
      return [...containers.map((c) => `container ${c.Names.join(',')}`), ...networks.map((n) => `network ${n.Name}`)];
    },
  };
});

describe('docker executor specifics', function () {
  this.timeout(60_000);
  const docker = new Docker();

  before(async function () {
    const reason = await dockerUnavailable(docker);
    if (reason) skipWithoutDocker(this, 'docker executor specifics', reason);
  });

  it('labels every container with pipeline, job and stage, on the build network, unprivileged, with the work dir mounted', async () => {
    const work = mkdtempSync(join(tmpdir(), 'estafette-docker-'));
    const config = configOf(planOf([stage('inspect-me', ['touch started', 'while [ ! -f go ]; do sleep 0.1; done'], { image: IMAGE })]), work);
    const done = runBuild(config, { executor: createDockerExecutor(docker), reporter: collectingReporter(), cancel: new AbortController().signal });
    const filters = { label: [`${DOCKER_LABELS.jobId}=${config.job.id}`] };
    let found: Docker.ContainerInfo[] = [];
    for (let i = 0; i < 100 && found.length === 0; i++) {
      found = await docker.listContainers({ filters });
      if (found.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).to.have.length(1);
    const info = await docker.getContainer(found[0]!.Id).inspect();
    writeFileSync(join(work, 'go'), '');
    const outcome = await done;
    rmSync(work, { recursive: true, force: true });
    expect(outcome.status).to.equal('succeeded');
    expect(info.Config.Labels).to.include({
      [DOCKER_LABELS.pipeline]: 'github.com/estafette/demo',
      [DOCKER_LABELS.jobKind]: 'build',
      [DOCKER_LABELS.jobId]: config.job.id,
      [DOCKER_LABELS.stage]: 'inspect-me',
    });
    expect(info.HostConfig.Privileged).to.equal(false);
    expect(info.Mounts.map((m) => `${m.Source}:${m.Destination}`)).to.deep.equal([`${work}:/estafette-work`]);
    expect(Object.keys(info.NetworkSettings.Networks)[0]).to.match(/^estafette-build-/);
  });

  it('expands ${ESTAFETTE_*} in the image name', async () => {
    const work = mkdtempSync(join(tmpdir(), 'estafette-docker-'));
    const [repo, tag] = IMAGE.split(':');
    const config = configOf(planOf([stage('expanded', ['echo ok'], { image: `${repo}:\${ESTAFETTE_EXTENSION_TAG}`, env: { ESTAFETTE_EXTENSION_TAG: tag! } })]), work);
    const reporter = collectingReporter();
    const outcome = await runBuild(config, { executor: createDockerExecutor(docker), reporter, cancel: new AbortController().signal });
    rmSync(work, { recursive: true, force: true });
    expect(outcome.status, reporter.lines.map((l) => l.text).join('\n')).to.equal('succeeded');
  });

  it('estafette run --executor docker runs the pipeline in containers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'estafette-run-docker-'));
    writeFileSync(join(dir, '.estafette.yaml'), `stages:\n  hello:\n    image: ${IMAGE}\n    commands:\n    - echo "hello from $(hostname) in $(pwd)" > out.txt\n    - cat out.txt\n`);
    execFileSync('git', ['-C', dir, 'init', '-q', '-b', 'main']);
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const r = spawnSync(process.execPath, [join(root, 'bin/estafette.js'), 'run', dir, '--executor', 'docker'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    rmSync(dir, { recursive: true, force: true });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/hello from \S+ in \/estafette-work/);
    expect(r.stdout).to.include('(docker executor)');
  });
});
