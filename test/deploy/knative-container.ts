/**
 * A container of a rendered manifest (a Knative Service's, a Job pod's) run by `docker run` the
 * way the kubelet would run it: the same image and command, the environment from its `envFrom`
 * ConfigMaps/Secrets and `env`, the user (runAsUser/runAsGroup, else the image's, which
 * runAsNonRoot requires to be numeric and not 0), no capabilities beyond those kept, no
 * privilege escalation, a read-only root file system when asked, the memory limit as a hard
 * limit without swap, and the pod's volumes as directories. What differs from a cluster is only
 * addressing: containers share the host's network (the machine's PostgreSQL and NATS listen on
 * 127.0.0.1), so each gets its own PORT, and cluster DNS names are replaced by the caller.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The parts of a Kubernetes container spec this module reads. */
export interface ContainerSpec {
  name?: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  readinessProbe?: { httpGet?: { path: string } };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

/** Container- or pod-level security settings (the container's win, as in Kubernetes). */
export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

/** ConfigMaps and Secrets by name (Secret values decoded), for `envFrom`. */
export interface EnvSources {
  configMaps: Record<string, Record<string, string>>;
  secrets: Record<string, Record<string, string>>;
}

/** Bytes of a Kubernetes quantity such as `256Mi`, `1Gi` or `500M`. */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  const unit: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Math.round(Number(m[1]) * (m[2] ? unit[m[2]]! : 1));
}

/** The environment a container gets: every `envFrom` source in order, then `env` (later wins). */
export function containerEnv(c: ContainerSpec, sources: EnvSources): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    const data = from.configMapRef ? sources.configMaps[from.configMapRef.name] : sources.secrets[from.secretRef!.name];
    if (!data) throw new Error(`${c.name ?? c.image}: envFrom ${from.configMapRef ? 'ConfigMap' : 'Secret'} ${from.configMapRef?.name ?? from.secretRef?.name} is not given`);
    Object.assign(env, data);
  }
  for (const e of c.env ?? []) env[e.name] = e.value ?? '';
  return env;
}

/**
 * `docker run` flags for the container's security context (merged over the pod's) and memory
 * limit. `imageUser` is the image's USER, needed to check runAsNonRoot as the kubelet does.
 */
export function securityFlags(c: ContainerSpec, imageUser: string, pod: SecurityContext = {}): string[] {
  const s: SecurityContext = { ...pod, ...(c.securityContext ?? {}) };
  const flags: string[] = [];
  if (s.runAsUser !== undefined) flags.push('--user', `${s.runAsUser}${s.runAsGroup !== undefined ? `:${s.runAsGroup}` : ''}`);
  if (s.runAsNonRoot) {
    const uid = s.runAsUser ?? (/^\d+/.exec(imageUser)?.[0] === undefined ? NaN : Number(/^\d+/.exec(imageUser)![0]));
    // The kubelet cannot verify a user name, and refuses uid 0.
    if (!Number.isInteger(uid) || uid === 0) throw new Error(`${c.image}: runAsNonRoot needs a numeric non-root user, the image has '${imageUser}'`);
  }
  if (s.privileged) flags.push('--privileged');
  for (const cap of s.capabilities?.drop ?? []) flags.push('--cap-drop', cap);
  for (const cap of s.capabilities?.add ?? []) flags.push('--cap-add', cap);
  if (s.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  if (s.readOnlyRootFilesystem) flags.push('--read-only');
  const limit = c.resources?.limits?.memory;
  if (limit) {
    const bytes = String(quantityBytes(limit));
    flags.push('--memory', bytes, '--memory-swap', bytes);
  }
  return flags;
}

/** `docker …` with its output; throws with stderr on failure. */
export async function docker(...args: string[]): Promise<string> {
  try {
    return (await run('docker', args, { maxBuffer: 64 * 1024 * 1024 })).stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.slice(0, 3).join(' ')} …: ${(e.stderr || e.message).trim()}`);
  }
}

/** Whether an image is in the engine. */
export const hasImage = (image: string): boolean => {
  try {
    execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** The image's USER (empty for root). */
export const imageUser = async (image: string): Promise<string> => docker('image', 'inspect', '-f', '{{.Config.User}}', image);

/** A container started with `docker run -d`; `stop` is `docker stop` (SIGTERM or the image's STOPSIGNAL, then SIGKILL). */
export interface RunningContainer {
  name: string;
  port: number;
  url: string;
  /** docker logs, stdout and stderr interleaved. */
  logs(): Promise<string>;
  /** Stops within `graceSeconds`; resolves the exit code and how long the stop took. */
  stop(graceSeconds?: number): Promise<{ exitCode: number; ms: number }>;
  remove(): Promise<void>;
}

/** What to run: the rendered container, where its env comes from, and what to change for this machine. */
export interface RunOptions {
  name: string;
  container: ContainerSpec;
  /** The local image to run instead of the manifest's name. */
  image: string;
  port: number;
  sources: EnvSources;
  /** Set by Knative or the SinkBinding, or replacing a cluster address with this machine's. */
  env?: Record<string, string>;
  pod?: SecurityContext;
  /** `-v host:container[:ro]` mounts. */
  mounts?: string[];
  extraFlags?: string[];
}

/** The full `docker run` argument list for `o` (exported so a test can check what it enforces). */
export async function runArgs(o: RunOptions): Promise<string[]> {
  const env = { ...containerEnv(o.container, o.sources), ...(o.env ?? {}), PORT: String(o.port) };
  const args = ['run', '-d', '--name', o.name, '--network', 'host', ...securityFlags(o.container, await imageUser(o.image), o.pod)];
  for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
  for (const m of o.mounts ?? []) args.push('-v', m);
  args.push(...(o.extraFlags ?? []));
  if (o.container.command) args.push('--entrypoint', o.container.command[0]!);
  args.push(o.image);
  if (o.container.command) args.push(...o.container.command.slice(1));
  args.push(...(o.container.args ?? []));
  return args;
}

/** Starts the container detached. */
export async function runContainer(o: RunOptions): Promise<RunningContainer> {
  await docker('rm', '-f', o.name).catch(() => undefined);
  await docker(...(await runArgs(o)));
  return handle(o.name, o.port);
}

/** A handle on a container that exists. */
export function handle(name: string, port: number): RunningContainer {
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    logs: async () => {
      const r = await run('docker', ['logs', name], { maxBuffer: 64 * 1024 * 1024 }).catch((e: { stdout?: string; stderr?: string }) => e);
      return `${r.stdout ?? ''}${r.stderr ?? ''}`;
    },
    stop: async (graceSeconds = 10) => {
      const t = Date.now();
      await docker('stop', '-t', String(graceSeconds), name);
      const ms = Date.now() - t;
      return { exitCode: Number(await docker('inspect', '-f', '{{.State.ExitCode}}', name)), ms };
    },
    remove: async () => void (await docker('rm', '-f', name).catch(() => undefined)),
  };
}

/** Polls GET url until it answers 200; fails early with the container's logs when it exits. */
export async function waitFor200(c: RunningContainer, path: string, timeoutMs = 30_000): Promise<Response> {
  const end = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    const res = await fetch(`${c.url}${path}`, { signal: AbortSignal.timeout(2000) }).catch((e: Error) => e);
    if (res instanceof Response) {
      if (res.status === 200) return res;
      last = `${res.status} ${await res.text()}`;
    }
    const state = await docker('inspect', '-f', '{{.State.Status}}', c.name).catch(() => 'gone');
    if (state !== 'running') throw new Error(`${c.name} is ${state} before ${path} answered 200 (last: ${last}); logs:\n${await c.logs()}`);
    if (Date.now() > end) throw new Error(`${c.name}: ${path} did not answer 200 within ${timeoutMs} ms (last: ${last}); logs:\n${await c.logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Cold start of one container: ms from spawning `docker run` to the first 200 on `url` (or on the
 * URL `url()` resolves to once it can, e.g. from the container's address), polling every 5 ms.
 * The container is removed afterwards.
 */
export async function coldStartMs(args: string[], name: string, url: string | (() => Promise<string | undefined>), timeoutMs = 30_000): Promise<number> {
  await docker('rm', '-f', name).catch(() => undefined);
  const t0 = process.hrtime.bigint();
  const child = spawn('docker', args, { stdio: 'ignore' });
  try {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const target = typeof url === 'string' ? url : await url().catch(() => undefined);
      const res = target ? await fetch(target, { signal: AbortSignal.timeout(1000) }).catch(() => undefined) : undefined;
      if (res?.status === 200) {
        await res.body?.cancel();
        return Number(process.hrtime.bigint() - t0) / 1e6;
      }
      await res?.body?.cancel();
      if (Date.now() > end) throw new Error(`${name}: ${url} not 200 within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
    await docker('rm', '-f', name).catch(() => undefined);
  }
}

/** Resident set size of a container's PID 1 in MiB (VmRSS of /proc/1/status). */
export async function rssMiB(name: string): Promise<number> {
  const status = await docker('exec', name, 'cat', '/proc/1/status');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  return kb / 1024;
}
