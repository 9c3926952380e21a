/**
 * The host executor: each stage's commands run with the stage's shell as a child process in the
 * build's work dir; the image is recorded but not used (local mode and tests). The child's
 * environment is the minimal base (base-env.ts) plus exactly the stage's. Every stage and
 * service gets its own process group (`detached`), so a timeout or cancel kills the whole tree
 * with `process.kill(-pgid)`, and whatever a stage left running in the background is killed when
 * it ends — as the removal of its container would in the docker executor.
 *
 * No line is cut: after the shell has exited and its group is killed, the output is read to its
 * end however long the sink holds it back (slow shipping). Reading stops early only when the
 * pipes stay open with nothing in them (a process that left the stage's process group holds
 * them; a note says so) or, after a timeout or cancel, once the grace period has passed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Readiness } from '../../shared/plan/types.ts';
import { pipeLines } from '../output-lines.ts';
import { inheritedEnv } from '../../shared/config/config.ts';
import { entrypointScript } from './entrypoint.ts';
import type { BuildInfo, Executor, LineSink, RunOptions, ServiceHandle, ServiceSpec, StageResult, StageSpec } from './executor.ts';

/** Open pipes with nothing to read for this long, after the group is gone, are held by an escaped process. */
export const ESCAPED_HOLDER_MS = 5000;

/** The host executor, with the process groups it started (for "nothing left behind" checks). */
export interface HostExecutor extends Executor {
  /** The process group id of every stage, service and probe started since `setup`. */
  processGroups(): readonly number[];
}

interface HostService extends ServiceHandle {
  child: ChildProcess;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/** True while any process (a zombie too, until reaped) is still in group `pid`. */
const groupAlive = (pid: number): boolean => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Waits (bounded) until group `pid` is empty: SIGKILL is delivered at once but a process is gone
 * only once the kernel has torn it down, and a stage is over only when nothing of it remains.
 */
async function groupGone(pid: number | undefined, withinMs = 2000): Promise<void> {
  if (!pid) return;
  const end = Date.now() + withinMs;
  while (groupAlive(pid) && Date.now() < end) await sleep(10);
}

/** The environment of a child: the minimal base, then exactly the stage's. */
const childEnv = (env: Record<string, string>): Record<string, string> => ({ ...inheritedEnv(), ...env });

/** Resolves with the exit code (or the spawn error) once the process itself has ended. */
const exitOf = (child: ChildProcess): Promise<{ code: number; error?: Error }> =>
  new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: 127, error }));
    child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 + 9 : 1) }));
  });

/** The output of one child: both pipes read line by line to their end. */
interface Output {
  done: Promise<void>;
  /** Milliseconds the pipes have been open, flowing and empty (0 while the sink holds them back). */
  idleMs(): number;
  /** Stops reading (what is buffered is still delivered). */
  stop(): void;
}

function readOutput(child: ChildProcess, onLine: LineSink): Output {
  const pipes = [child.stdout!, child.stderr!] as Readable[];
  let last = Date.now();
  for (const p of pipes) p.on('data', () => (last = Date.now()));
  const done = Promise.all([pipeLines(pipes[0]!, 'stdout', onLine), pipeLines(pipes[1]!, 'stderr', onLine)]).then(() => undefined);
  return {
    done,
    idleMs: () => {
      if (pipes.some((p) => p.isPaused())) last = Date.now();
      return Date.now() - last;
    },
    stop: () => pipes.forEach((p) => p.destroy()),
  };
}

/** Creates a host executor. */
export function createHostExecutor(): HostExecutor {
  let build: BuildInfo | undefined;
  const live = new Set<number>();
  const started: number[] = [];

  const spawnScript = (shell: string, commands: string[], env: Record<string, string>): ChildProcess => {
    if (!build) throw new Error('host executor: setup() was not called');
    const child = spawn(shell, ['-c', entrypointScript(commands)], { cwd: build.workDir, env: childEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid) {
      live.add(child.pid);
      started.push(child.pid);
    }
    return child;
  };

  /**
   * After the shell has exited: kills what it left running, then reads its output to the end
   * (see the header for when reading stops early). Returns a line to add when output was cut.
   */
  const finish = async (child: ChildProcess, output: Output, signal?: AbortSignal, graceMs = 0): Promise<string | undefined> => {
    // Background processes of the stage die with it; that also closes the pipes they hold.
    killGroup(child.pid, 'SIGKILL');
    await groupGone(child.pid);
    if (child.pid) live.delete(child.pid);
    const endedAt = Date.now();
    let reading = true;
    const cut = new Promise<string | undefined>((resolve) => {
      const check = (): void => {
        if (!reading) return resolve(undefined);
        if (signal?.aborted && Date.now() - endedAt >= graceMs) return resolve('stopped reading the output of the stage: it was stopped and the grace period is over');
        if (output.idleMs() >= ESCAPED_HOLDER_MS) return resolve('stopped reading the output of the stage: a process that left the stage keeps its output open');
        setTimeout(check, 250).unref();
      };
      check();
    });
    const note = await Promise.race([output.done.then(() => undefined), cut]);
    reading = false;
    if (note) {
      output.stop();
      await output.done;
    }
    return note;
  };

  return {
    name: 'host',

    processGroups: () => [...started],

    async setup(b) {
      build = b;
    },

    async runStage(stage: StageSpec, options: RunOptions): Promise<StageResult> {
      if (stage.commands.length === 0) {
        return { exitCode: 1, aborted: false, message: `the host executor cannot run the entrypoint of image ${stage.image}: the stage has no commands` };
      }
      if (options.signal.aborted) return { exitCode: 1, aborted: true };
      const child = spawnScript(stage.shell, stage.commands, stage.env);
      const output = readOutput(child, options.onLine);
      let aborted = false;
      let killTimer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        aborted = true;
        killGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), options.graceMs);
      };
      options.signal.addEventListener('abort', onAbort, { once: true });
      try {
        const { code, error } = await exitOf(child);
        const cut = await finish(child, output, options.signal, options.graceMs);
        if (error) return { exitCode: code, aborted, message: `cannot start shell ${stage.shell}: ${error.message}` };
        if (cut) await options.onLine('stderr', `estafette: ${cut}`);
        return { exitCode: code, aborted };
      } finally {
        options.signal.removeEventListener('abort', onAbort);
        clearTimeout(killTimer);
      }
    },

    async startService(service: ServiceSpec, onLine: LineSink): Promise<ServiceHandle> {
      if (service.commands.length === 0) throw new Error(`the host executor cannot run the entrypoint of image ${service.image}: the service has no commands`);
      const child = spawnScript(service.shell, service.commands, service.env);
      const output = readOutput(child, onLine);
      const exited = exitOf(child)
        .then(() => finish(child, output))
        .then(() => undefined);
      const handle: HostService = { spec: service, child, exited };
      return handle;
    },

    async probeService(handle: ServiceHandle, readiness: Readiness): Promise<boolean> {
      const svc = handle as HostService;
      if (readiness.kind === 'http') {
        // Service names do not resolve on the host: the service listens on this machine.
        const host = readiness.host === '' || readiness.host === svc.spec.name ? '127.0.0.1' : readiness.host;
        try {
          const res = await fetch(`${readiness.scheme}://${host}:${readiness.port}${readiness.path}`, { signal: AbortSignal.timeout(2000) });
          await res.body?.cancel();
          return res.ok;
        } catch {
          return false;
        }
      }
      if (readiness.command.length === 0 || !build) return false;
      const [cmd, ...args] = readiness.command;
      return new Promise<boolean>((resolve) => {
        const p = spawn(cmd!, args, { cwd: build!.workDir, env: childEnv(svc.spec.env), detached: true, stdio: 'ignore', timeout: 5000 });
        if (p.pid) started.push(p.pid);
        p.once('error', () => resolve(false));
        p.once('exit', (code) => {
          killGroup(p.pid, 'SIGKILL');
          void groupGone(p.pid).then(() => resolve(code === 0));
        });
      });
    },

    async stopService(handle: ServiceHandle, graceMs: number): Promise<void> {
      const svc = handle as HostService;
      killGroup(svc.child.pid, 'SIGTERM');
      const stopped = await Promise.race([svc.exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!stopped) killGroup(svc.child.pid, 'SIGKILL');
      await svc.exited;
    },

    async destroy(): Promise<void> {
      for (const pid of live) killGroup(pid, 'SIGKILL');
      await Promise.all([...live].map((pid) => groupGone(pid)));
      live.clear();
    },
  };
}
