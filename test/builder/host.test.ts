/** The shared executor suite against the host executor (child processes). */
import { createHostExecutor } from '../../builder/executors/host.ts';
import { describeExecutor } from './executor-suite.ts';

describeExecutor('host', async () => ({
  create: createHostExecutor,
  image: 'estafette-test/busybox:1',
  httpService: (port, delay) => ({
    image: 'node:20',
    shell: '/bin/sh',
    commands: [`exec node -e "setTimeout(() => require('http').createServer((q, s) => s.end('pong')).listen(${port}, '127.0.0.1'), ${delay * 1000})"`],
  }),
  serviceHost: () => '127.0.0.1',
  httpGet: (url) => `node -e "fetch('${url}').then((r) => r.text()).then((t) => console.log(t))"`,
  hostPids: true,
  leftovers: async () => [],
}));
