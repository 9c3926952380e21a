/** Picks the executor implementation a config names; docker is loaded only when asked for. */
import type { ExecutorName } from '../../shared/plan/builder-config.ts';
import type { Executor } from './executor.ts';
import { createHostExecutor } from './host.ts';

/** Creates the executor called `name` (docker: the engine at DOCKER_HOST or the default socket). */
export async function createExecutor(name: ExecutorName): Promise<Executor> {
  if (name === 'docker') {
    const { createDockerExecutor } = await import('./docker.ts');
    return createDockerExecutor();
  }
  return createHostExecutor();
}
