/**
 * The docker executor: every stage and service runs in a container of its image through the
 * Docker Engine API (dockerode; DOCKER_HOST or the default socket). Per build: one network;
 * the work dir bind-mounted at each stage's workDir; services as containers named per build and
 * reachable under their service name (network alias); labels (pipeline, job, stage) on every
 * container so an operator can find them; containers run as the image's user unless `user` is
 * configured, and never privileged unless their image is on the `trustedImages` allow-list.
 * Each stage and service is told its image's digest and creation time (ESTAFETTE_STAGE_IMAGE_SHA,
 * ESTAFETTE_STAGE_IMAGE_CREATED_DATE, ESTAFETTE_SERVICE_IMAGE_…), as Estafette does, from the
 * engine's image inspect. An image that is absent and cannot be pulled fails the stage with a
 * message naming it. `destroy` removes every container
 * and the network of the build, found by label, so nothing leaks after failures or cancels.
 */
import { PassThrough, type Readable } from 'node:stream';
import Docker from 'dockerode';
import { parseBuilderSettings } from '../../shared/config/config.ts';
import type { Readiness } from '../../shared/plan/types.ts';
import { pipeLines } from '../output-lines.ts';
import { entrypointScript } from './entrypoint.ts';
import type { BuildInfo, Executor, LineSink, RunOptions, ServiceHandle, ServiceSpec, StageResult, StageSpec } from './executor.ts';

/** Label keys put on every container and network of a build. */
export const DOCKER_LABELS = {
  pipeline: 'ci.estafette.pipeline',
  jobKind: 'ci.estafette.job-kind',
  jobId: 'ci.estafette.job-id',
  stage: 'ci.estafette.stage',
} as const;

interface DockerService extends ServiceHandle {
  container: Docker.Container;
}

/** Settings of the docker executor beyond the engine connection. */
export interface DockerExecutorOptions {
  /** `user[:group]` every stage/service container runs as; unset → the image's own USER. */
  user?: string;
  /**
   * Images whose containers run privileged (e.g. a docker-in-docker extension). An entry matches
   * the image exactly or its repository with any tag (`extensions/docker` matches `extensions/docker:dev`).
   */
  trustedImages?: string[];
}

/** The repository part of an image reference (the tag after the last `:` that follows the last `/` dropped). */
const repositoryOf = (image: string): string => {
  const at = image.split('@')[0]!;
  const colon = at.lastIndexOf(':');
  return colon > at.lastIndexOf('/') ? at.slice(0, colon) : at;
};

/** Whether an image is on the trusted allow-list (so its containers may run privileged). */
export function isTrustedImage(image: string, trusted: readonly string[]): boolean {
  return trusted.some((t) => t === image || (repositoryOf(t) === t && t === repositoryOf(image)));
}

/** A DNS- and docker-safe slug of a name. */
const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'x';

const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number })?.statusCode;

/** What Estafette tells a stage about its image (ESTAFETTE_STAGE_IMAGE_SHA, …_CREATED_DATE). */
interface ImageFacts {
  /** Hex digest of the image's first repository digest; of its id when it has none (built here, never pushed or pulled). */
  sha: string;
  /** Creation time as the engine reports it. */
  created: string;
}

/** The facts of an image from the engine's inspect. */
export function imageFacts(info: Pick<Docker.ImageInspectInfo, 'Id' | 'RepoDigests' | 'Created'>): ImageFacts {
  const digest = info.RepoDigests?.[0]?.split('@')[1] ?? info.Id;
  return { sha: digest.slice(digest.indexOf(':') + 1), created: info.Created };
}

/**
 * Splits Docker's multiplexed attach stream (8-byte frame headers: stream type, size) into
 * stdout and stderr, pausing the source while either side is full so backpressure reaches
 * the container's output.
 */
function demux(raw: Readable): { stdout: PassThrough; stderr: PassThrough } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let buf: Buffer = Buffer.alloc(0);
  raw.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let full: PassThrough | undefined;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const target = buf[0] === 2 ? stderr : stdout;
      if (!target.write(buf.subarray(8, 8 + size))) full = target;
      buf = buf.subarray(8 + size);
    }
    if (full) {
      raw.pause();
      full.once('drain', () => raw.resume());
    }
  });
  const end = (): void => {
    stdout.end();
    stderr.end();
  };
  raw.once('end', end);
  raw.once('close', end);
  raw.once('error', end);
  return { stdout, stderr };
}

/** Creates a docker executor talking to the engine at DOCKER_HOST (or the default socket). */
export function createDockerExecutor(docker: Docker = new Docker(), options: DockerExecutorOptions = parseBuilderSettings().docker): Executor {
  const trustedImages = options.trustedImages ?? [];
  let build: BuildInfo | undefined;
  let network: string | undefined;
  let counter = 0;
  const containers = new Set<Docker.Container>();

  const prefix = (): string => `estafette-${build!.kind}-${slug(build!.jobId)}`;
  const labels = (stage: string): Record<string, string> => ({
    [DOCKER_LABELS.pipeline]: build!.pipeline,
    [DOCKER_LABELS.jobKind]: build!.kind,
    [DOCKER_LABELS.jobId]: build!.jobId,
    [DOCKER_LABELS.stage]: stage,
  });

  /** Makes sure the image is present, pulling it if needed; its facts, or a problem naming the image. */
  const ensureImage = async (image: string): Promise<ImageFacts | string> => {
    if (!image) return 'the stage has no image';
    try {
      return imageFacts(await docker.getImage(image).inspect());
    } catch (err) {
      if (statusOf(err) !== 404) return `cannot inspect image ${image}: ${(err as Error).message}`;
    }
    try {
      const stream = await docker.pull(image);
      await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve())));
      return imageFacts(await docker.getImage(image).inspect());
    } catch (err) {
      return `image ${image} is not present and cannot be pulled: ${(err as Error).message.split('\n')[0]}`;
    }
  };

  const create = async (name: string, spec: { image: string; shell: string; commands: string[]; env: Record<string, string>; workDir: string; path: string }, alias?: string): Promise<Docker.Container> => {
    const container = await docker.createContainer({
      name,
      Image: spec.image,
      // Empty commands: the image's own entrypoint runs (how extensions work).
      ...(spec.commands.length > 0 ? { Entrypoint: [spec.shell, '-c', entrypointScript(spec.commands)], Cmd: [] } : {}),
      WorkingDir: spec.workDir,
      // Empty User keeps the image's USER.
      ...(options.user ? { User: options.user } : {}),
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      Labels: labels(spec.path),
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      HostConfig: {
        Binds: [`${build!.workDir}:${spec.workDir}`],
        NetworkMode: network,
        Privileged: isTrustedImage(spec.image, trustedImages),
        // An init as PID 1 forwards stop signals and reaps zombies: a shell or server as PID 1
        // would ignore SIGTERM and every stop would wait out the grace period.
        Init: true,
      },
      NetworkingConfig: { EndpointsConfig: { [network!]: { Aliases: alias ? [alias] : [] } } },
    });
    containers.add(container);
    return container;
  };

  /**
   * Attaches before start so no output is lost. Returns (wrapped, so awaiting the attach does not
   * also await the output) a promise that settles once both streams are consumed.
   */
  const attach = async (container: Docker.Container, onLine: LineSink): Promise<{ output: Promise<unknown> }> => {
    const raw = (await container.attach({ stream: true, stdout: true, stderr: true })) as unknown as Readable;
    const { stdout, stderr } = demux(raw);
    return { output: Promise.all([pipeLines(stdout, 'stdout', onLine), pipeLines(stderr, 'stderr', onLine)]) };
  };

  const remove = async (container: Docker.Container): Promise<void> => {
    await container.remove({ force: true, v: true }).catch(() => undefined);
    containers.delete(container);
  };

  return {
    name: 'docker',

    async setup(b) {
      build = b;
      await docker.ping();
      network = `${prefix()}-${Date.now().toString(36)}`;
      await docker.createNetwork({ Name: network, Labels: labels(''), CheckDuplicate: true });
    },

    async runStage(stage: StageSpec, options: RunOptions): Promise<StageResult> {
      const image = await ensureImage(stage.image);
      if (typeof image === 'string') return { exitCode: 1, aborted: false, message: image };
      if (options.signal.aborted) return { exitCode: 1, aborted: true };
      let container: Docker.Container;
      try {
        const env = { ...stage.env, ESTAFETTE_STAGE_IMAGE_SHA: image.sha, ESTAFETTE_STAGE_IMAGE_CREATED_DATE: image.created };
        container = await create(`${prefix()}-${slug(stage.path)}-${++counter}`, { ...stage, env });
      } catch (err) {
        return { exitCode: 1, aborted: false, message: `cannot create the container: ${(err as Error).message.split('\n')[0]}` };
      }
      let aborted = false;
      const onAbort = (): void => {
        aborted = true;
        void container.stop({ t: Math.ceil(options.graceMs / 1000) }).catch(() => undefined);
      };
      options.signal.addEventListener('abort', onAbort, { once: true });
      try {
        const { output } = await attach(container, options.onLine);
        await container.start();
        const { StatusCode } = (await container.wait()) as { StatusCode: number };
        await output;
        return { exitCode: StatusCode, aborted };
      } catch (err) {
        return { exitCode: 1, aborted, message: `container error: ${(err as Error).message.split('\n')[0]}` };
      } finally {
        options.signal.removeEventListener('abort', onAbort);
        await remove(container);
      }
    },

    async startService(service: ServiceSpec, onLine: LineSink): Promise<ServiceHandle> {
      const image = await ensureImage(service.image);
      if (typeof image === 'string') throw new Error(image);
      const env = { ...service.env, ESTAFETTE_SERVICE_IMAGE_SHA: image.sha, ESTAFETTE_SERVICE_IMAGE_CREATED_DATE: image.created };
      const container = await create(`${prefix()}-svc-${slug(service.name)}`, { ...service, env, workDir: '/estafette-work' }, service.name);
      const { output } = await attach(container, onLine);
      await container.start();
      const exited = container
        .wait()
        .then(() => output)
        .then(
          () => undefined,
          () => undefined,
        );
      const handle: DockerService = { spec: service, container, exited };
      return handle;
    },

    async probeService(handle: ServiceHandle, readiness: Readiness): Promise<boolean> {
      const { container, spec } = handle as DockerService;
      try {
        if (readiness.kind === 'http') {
          let host = readiness.host;
          if (!host || host === spec.name) {
            // The builder is not on the build network by name; the container's address is reachable.
            const info = await container.inspect();
            host = info.NetworkSettings.Networks[network!]?.IPAddress ?? '';
            if (!host) return false;
          }
          const res = await fetch(`${readiness.scheme}://${host}:${readiness.port}${readiness.path}`, { signal: AbortSignal.timeout(2000) });
          await res.body?.cancel();
          return res.ok;
        }
        const exec = await container.exec({ Cmd: readiness.command, AttachStdout: false, AttachStderr: false });
        await exec.start({ Detach: true });
        for (let i = 0; i < 50; i++) {
          const r = await exec.inspect();
          if (!r.Running) return r.ExitCode === 0;
          await new Promise((res) => setTimeout(res, 100));
        }
        return false;
      } catch {
        return false;
      }
    },

    async stopService(handle: ServiceHandle, graceMs: number): Promise<void> {
      const { container } = handle as DockerService;
      await container.stop({ t: Math.ceil(graceMs / 1000) }).catch(() => undefined);
      await remove(container);
    },

    async destroy(): Promise<void> {
      if (!build) return;
      await Promise.all([...containers].map(remove));
      // Also whatever this build created that the handles above no longer know about.
      const left = await docker.listContainers({ all: true, filters: { label: [`${DOCKER_LABELS.jobId}=${build.jobId}`] } }).catch(() => []);
      await Promise.all(
        left.map((c) =>
          docker
            .getContainer(c.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
      );
      if (network) {
        await docker
          .getNetwork(network)
          .remove()
          .catch(() => undefined);
        network = undefined;
      }
    },
  };
}
