/**
 * The shared executor suite against the docker executor, on the engine at DOCKER_HOST (or the
 * default socket), with the locally built `estafette-test/busybox:1` image (FROM scratch +
 * busybox). Skips loudly when no engine answers (fails under REQUIRE_SERVICES=1).
 */
import Docker from 'dockerode';
import { createDockerExecutor, DOCKER_LABELS } from '../../builder/executors/docker.ts';
import { describeExecutor } from './executor-suite.ts';

const IMAGE = process.env.ESTAFETTE_TEST_IMAGE ?? 'estafette-test/busybox:1';

describeExecutor('docker', async () => {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    return `no Docker engine answers at ${process.env.DOCKER_HOST ?? '/var/run/docker.sock'} (${(err as Error).message})`;
  }
  try {
    await docker.getImage(IMAGE).inspect();
  } catch {
    return `test image ${IMAGE} is not built on this engine`;
  }
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
