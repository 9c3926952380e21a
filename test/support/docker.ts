/**
 * Docker engine helpers for the docker executor specs: a snapshot of what the engine holds (to
 * prove a run left nothing behind) and a counter of the containers the executor created, read
 * from the engine's own event stream (so the count is the engine's, not the executor's claim).
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { DOCKER_LABELS } from '../../builder/executors/docker.ts';

/** How many containers (any state) and networks the engine holds, and how many carry a build label. */
export interface EngineCounts {
  containers: number;
  networks: number;
  labelledContainers: number;
  labelledNetworks: number;
}

/** Counts the engine's containers and networks, overall and those labelled by an estafette job. */
export async function engineCounts(docker: Docker): Promise<EngineCounts> {
  const filters = { label: [DOCKER_LABELS.jobId] };
  const [containers, networks, labelledContainers, labelledNetworks] = await Promise.all([
    docker.listContainers({ all: true }),
    docker.listNetworks(),
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  return { containers: containers.length, networks: networks.length, labelledContainers: labelledContainers.length, labelledNetworks: labelledNetworks.length };
}

/** A running count of containers created with an estafette job label, from the engine's events. */
export interface ContainerCounter {
  /** Containers created since the counter started. */
  created(): number;
  /** Containers started since the counter started. */
  started(): number;
  /** Stops listening to the engine's events. */
  stop(): void;
}

/** Starts counting `create`/`start` events of estafette-labelled containers. */
export async function countContainers(docker: Docker): Promise<ContainerCounter> {
  let created = 0;
  let started = 0;
  const stream = (await docker.getEvents({
    filters: { type: ['container'], event: ['create', 'start'], label: [DOCKER_LABELS.jobId] },
  })) as unknown as Readable;
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      const ev = JSON.parse(line) as { Action?: string };
      if (ev.Action === 'create') created++;
      else if (ev.Action === 'start') started++;
    }
  });
  stream.on('error', () => undefined);
  return {
    created: () => created,
    started: () => started,
    stop: () => stream.destroy(),
  };
}
