/**
 * The shared executor suite against the docker executor, on the engine at DOCKER_HOST (or the
 * default socket), with the locally built `estafette-test/busybox:1` image (FROM scratch +
 * busybox). Skips loudly when no engine answers (see docker-engine.ts for when it fails instead).
 * Around it all: a count of the containers the engine created for builds (printed at the end)
 * and a check that the engine holds no more containers or networks afterwards than before.
 */
import { expect } from 'chai';
import Docker from 'dockerode';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDockerExecutor, DOCKER_LABELS, type DockerExecutorOptions, imageFacts, isTrustedImage } from '../../builder/executors/docker.ts';
import { runBuild } from '../../builder/run-build.ts';
import { configOf, planOf, service, stage } from '../fixtures/builder/plans.ts';
import { collectingReporter } from './collecting-reporter.ts';
import { dockerUnavailable, skipWithoutDocker, TEST_IMAGE } from './docker-engine.ts';
import { describeExecutor } from './executor-suite.ts';
import { type ContainerCounter, countContainers, type EngineCounts, engineCounts } from '../support/docker.ts';

const IMAGE = TEST_IMAGE;

describe('docker executor on a real engine', function () {
  const engine = new Docker();
  let baseline: EngineCounts | undefined;
  let counter: ContainerCounter | undefined;

  before(async () => {
    if (await dockerUnavailable(engine)) return; // each suite below skips (or fails) with the reason
    baseline = await engineCounts(engine);
    counter = await countContainers(engine);
  });

  after(async () => {
    if (!counter || !baseline) return;
    // Let the last events arrive before reading the counter.
    await new Promise((r) => setTimeout(r, 300));
    counter.stop();
    const now = await engineCounts(engine);
    console.log(`\n  docker executor: ${counter.created()} containers ran, ${now.labelledContainers} left (${now.labelledNetworks} build networks left)\n`);
  });

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
      leftovers: async ({ jobId }) => {
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

    it('tells stages and services their image facts from the engine (ESTAFETTE_STAGE_IMAGE_SHA/_CREATED_DATE, ESTAFETTE_SERVICE_IMAGE_…), as Estafette does', async () => {
      const info = await docker.getImage(IMAGE).inspect();
      const svc = service('facts', ['echo "$ESTAFETTE_SERVICE_IMAGE_SHA $ESTAFETTE_SERVICE_IMAGE_CREATED_DATE" > svc.facts', 'exec sleep 60'], {
        image: IMAGE,
        readiness: { kind: 'exec', command: ['test', '-f', '/estafette-work/svc.facts'], timeoutSeconds: 30 },
      });
      const r = await runWith([stage('facts', ['echo "$ESTAFETTE_STAGE_IMAGE_SHA $ESTAFETTE_STAGE_IMAGE_CREATED_DATE"', 'cat svc.facts'], { image: IMAGE, services: [svc] })]);
      expect(r.outcome.status, r.reporter.lines.map((l) => l.text).join('\n')).to.equal('succeeded');
      // A locally built image has no repository digest: its id's digest stands in.
      const expected = `${info.Id.replace(/^sha256:/, '')} ${info.Created}`;
      expect(r.reporter.textOf('facts').filter((l) => !l.startsWith('> '))).to.deep.equal([expected, expected]);
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

    /** Runs a one-build plan on a docker executor with `options`; cancels when `cancelOn` is printed. */
    const runWith = async (stages: Parameters<typeof planOf>[0], options: DockerExecutorOptions = {}, over: Parameters<typeof configOf>[2] = {}, cancelOn?: string) => {
      const work = mkdtempSync(join(tmpdir(), 'estafette-docker-'));
      const config = configOf(planOf(stages), work, over);
      const reporter = collectingReporter();
      const cancel = new AbortController();
      let canceledAt = 0;
      if (cancelOn)
        reporter.onLine = (_s, text) => {
          if (text === cancelOn && !canceledAt) {
            canceledAt = Date.now();
            cancel.abort();
          }
        };
      // The real engine, with each container's create request recorded on the way.
      const created: Docker.ContainerCreateOptions[] = [];
      const recording = Object.create(docker) as Docker;
      recording.createContainer = (opts: Docker.ContainerCreateOptions) => {
        created.push(opts);
        return docker.createContainer(opts);
      };
      const outcome = await runBuild(config, { executor: createDockerExecutor(recording, options), reporter, cancel: cancel.signal });
      const endedAt = Date.now();
      rmSync(work, { recursive: true, force: true });
      return { outcome, reporter, config, created, stopMs: canceledAt ? endedAt - canceledAt : -1 };
    };

    // CapEff of a privileged root container has every capability bit set; a default one does not.
    const FULL_CAPS = /^CapEff:\s*0*1?f{9,}$/;
    const userCases: { name: string; options: DockerExecutorOptions; uid: string; privileged: boolean }[] = [
      { name: "the image's user (root in the test image), unprivileged", options: {}, uid: '0', privileged: false },
      { name: 'a configured user', options: { user: '1234:1234' }, uid: '1234', privileged: false },
      { name: 'privileged when the image is trusted (by repository)', options: { trustedImages: [IMAGE.split(':')[0]!] }, uid: '0', privileged: true },
      { name: 'unprivileged when another image is trusted', options: { trustedImages: ['extensions/docker'] }, uid: '0', privileged: false },
    ];
    for (const c of userCases) {
      it(`container user and privileges: ${c.name}`, async () => {
        const r = await runWith([stage('who', ['id -u', 'grep CapEff /proc/self/status'], { image: IMAGE })], c.options);
        const text = r.reporter.textOf('who');
        expect(
          r.created.map((o) => [o.User ?? '', o.HostConfig?.Privileged]),
          'create requests',
        ).to.deep.equal([[c.options.user ?? '', c.privileged]]);
        const finals = r.reporter.finals();
        if (c.privileged && /unable to apply caps|operation not permitted/.test(finals[0]?.message ?? '')) {
          // An engine that itself runs without every capability (a CI container) cannot start
          // privileged containers; the request above is what the executor controls.
          console.warn(`    (engine refuses privileged containers here: ${finals[0]!.message!.slice(0, 80)}…)`);
          return;
        }
        expect(r.outcome.status, text.join('\n') + JSON.stringify(finals)).to.equal('succeeded');
        expect(text[1], 'uid').to.equal(c.uid);
        const caps = text.find((l) => l.startsWith('CapEff'))!;
        expect(FULL_CAPS.test(caps), caps).to.equal(c.privileged);
      });
    }

    const cancelCases: { name: string; commands: string[]; grace: number; maxMs: number; minMs: number }[] = [
      { name: 'a stage that stops on SIGTERM ends well before the grace period', commands: ['echo ready', 'sleep 300'], grace: 10, minMs: 0, maxMs: 5_000 },
      { name: 'a stage that ignores SIGTERM is killed when the grace period ends', commands: ["trap '' TERM", 'echo ready', 'while true; do sleep 0.2; done'], grace: 2, minMs: 1_500, maxMs: 6_000 },
    ];
    for (const c of cancelCases) {
      it(`cancel: ${c.name}`, async () => {
        const r = await runWith([stage('long', c.commands, { image: IMAGE })], {}, { cancelGraceSeconds: c.grace }, 'ready');
        expect(r.outcome.status).to.equal('canceled');
        expect(r.stopMs, 'ms from cancel to build end').to.be.within(c.minMs, c.maxMs);
      });
    }

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

    it('estafette run --executor docker honours DOCKER_HOST: an engine that is not there fails the build with a clear line', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'estafette-run-docker-'));
      writeFileSync(join(dir, '.estafette.yaml'), `stages:\n  hello:\n    image: ${IMAGE}\n    commands:\n    - echo hi\n`);
      execFileSync('git', ['-C', dir, 'init', '-q', '-b', 'main']);
      const root = fileURLToPath(new URL('../../', import.meta.url));
      const sock = join(dir, 'no-engine.sock');
      const r = spawnSync(process.execPath, [join(root, 'bin/estafette.js'), 'run', dir, '--executor', 'docker'], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', DOCKER_HOST: `unix://${sock}` },
      });
      rmSync(dir, { recursive: true, force: true });
      const out = r.stdout + r.stderr;
      expect(r.status, out).to.equal(1);
      expect(out).to.include(`the docker executor cannot start: connect ENOENT ${sock}`);
      expect(out, 'no stack trace').to.not.match(/^\s+at /m);
    });
  });

  describe('docker engine after the docker specs', function () {
    this.timeout(30_000);

    it('holds no build container or network, and no more containers or networks than before', async function () {
      if (!baseline || !counter) return skipWithoutDocker(this, 'docker leak check', (await dockerUnavailable(engine)) ?? 'no baseline');
      expect(counter.created(), 'containers created through the engine').to.be.greaterThan(0);
      const now = await engineCounts(engine);
      expect({ containers: now.labelledContainers, networks: now.labelledNetworks }, 'labelled leftovers').to.deep.equal({ containers: 0, networks: 0 });
      expect(now.containers, 'containers on the engine').to.be.at.most(baseline.containers);
      expect(now.networks, 'networks on the engine').to.be.at.most(baseline.networks);
    });
  });
});

/** Image facts from an inspect answer: pure, so it runs with or without an engine. */
describe('docker executor image facts', () => {
  const cases: Array<{ name: string; info: { Id: string; RepoDigests: string[]; Created: string }; sha: string }> = [
    { name: 'a pulled image: its repository digest', info: { Id: 'sha256:1111', RepoDigests: ['registry:5000/team/app@sha256:abcd', 'other@sha256:ef01'], Created: '2024-05-01T10:00:00.123456789Z' }, sha: 'abcd' },
    { name: 'a locally built image: its id', info: { Id: 'sha256:2222', RepoDigests: [], Created: '2024-05-02T00:00:00Z' }, sha: '2222' },
  ];
  for (const c of cases) it(c.name, () => expect(imageFacts(c.info)).to.deep.equal({ sha: c.sha, created: c.info.Created }));
});

/** Which images may run privileged: pure, so it runs with or without an engine. */
describe('docker executor trusted images', () => {
  const trustCases: [string, string[], boolean][] = [
    ['extensions/docker:dev', ['extensions/docker'], true],
    ['extensions/docker:dev', ['extensions/docker:dev'], true],
    ['extensions/docker:dev', ['extensions/docker:stable'], false],
    ['extensions/docker-evil:dev', ['extensions/docker'], false],
    ['registry:5000/extensions/docker:1', ['registry:5000/extensions/docker'], true],
    ['registry:5000/extensions/docker', ['registry'], false],
    ['extensions/docker:dev', [], false],
  ];
  for (const [image, trusted, want] of trustCases) {
    it(`isTrustedImage(${image}, [${trusted.join(', ')}]) is ${want}`, () => {
      expect(isTrustedImage(image, trusted)).to.equal(want);
    });
  }
});
