/**
 * The host executor: each stage's commands run with the stage's shell as a child process in the
 * build's work dir; the image is recorded but not used (local mode and tests). Every stage and
 * service gets its own process group (`detached`), so a timeout or cancel kills the whole tree
 * with `process.kill(-pgid)`, and whatever a stage left running in the background is killed when
 * it ends — as the removal of its container would in the docker executor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readiness } from '../../shared/plan/types.ts';
import { pipeLines } from '../output-lines.ts';
import { baseEnv } from './base-env.ts';
import { entrypointScript } from './entrypoint.ts';
import type {
  BuildInfo,
  Executor,
  LineSink,
  RunOptions,
  ServiceHandle,
  ServiceSpec,
  StageResult,
  StageSpec,
} from './executor.ts';

/** Waits at most this long for output pipes after the process group is gone. */
const PIPE_DRAIN_MS = 2000;

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

/** The environment of a child: the minimal base, then exactly the stage's. */
const childEnv = (env: Record<string, string>): Record<string, string> => ({ ...baseEnv(), ...env });

/** Creates a host executor. */
export function createHostExecutor(): Executor {
  let build: BuildInfo | undefined;
  const groups = new Set<number>();

  const spawnScript = (shell: string, commands: string[], env: Record<string, string>): ChildProcess => {
    if (!build) throw new Error('host executor: setup() was not called');
    const child = spawn(shell, ['-c', entrypointScript(commands)], {
      cwd: build.workDir,
      env: childEnv(env),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid) groups.add(child.pid);
    return child;
  };

  /** Resolves with the exit code (or the spawn error) once the process itself has ended. */
  const exitOf = (child: ChildProcess): Promise<{ code: number; error?: Error }> =>
    new Promise((resolve) => {
      child.once('error', (error) => resolve({ code: 127, error }));
      child.once('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 + 9 : 1) }));
    });

  const drain = async (child: ChildProcess, output: Promise<unknown>): Promise<void> => {
    // Background processes of the stage die with it; that also closes the pipes they hold.
    killGroup(child.pid, 'SIGKILL');
    if (child.pid) groups.delete(child.pid);
    const timer = sleep(PIPE_DRAIN_MS).then(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    });
    await Promise.race([output, timer]);
  };

  return {
    name: 'host',

    async setup(b) {
      build = b;
    },

    async runStage(stage: StageSpec, options: RunOptions): Promise<StageResult> {
      if (stage.commands.length === 0) {
        return { exitCode: 1, aborted: false, message: `the host executor cannot run the entrypoint of image ${stage.image}: the stage has no commands` };
      }
      if (options.signal.aborted) return { exitCode: 1, aborted: true };
      const child = spawnScript(stage.shell, stage.commands, stage.env);
      const output = Promise.all([pipeLines(child.stdout!, 'stdout', options.onLine), pipeLines(child.stderr!, 'stderr', options.onLine)]);
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
        await drain(child, output);
        if (error) return { exitCode: code, aborted, message: `cannot start shell ${stage.shell}: ${error.message}` };
        return { exitCode: code, aborted };
      } finally {
        options.signal.removeEventListener('abort', onAbort);
        clearTimeout(killTimer);
      }
    },

    async startService(service: ServiceSpec, onLine: LineSink): Promise<ServiceHandle> {
      if (service.commands.length === 0) throw new Error(`the host executor cannot run the entrypoint of image ${service.image}: the service has no commands`);
      const child = spawnScript(service.shell, service.commands, service.env);
      const output = Promise.all([pipeLines(child.stdout!, 'stdout', onLine), pipeLines(child.stderr!, 'stderr', onLine)]);
      const exited = exitOf(child).then(() => drain(child, output));
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
        const p = spawn(cmd!, args, { cwd: build!.workDir, env: childEnv(svc.spec.env), stdio: 'ignore', timeout: 5000 });
        p.once('error', () => resolve(false));
        p.once('exit', (code) => resolve(code === 0));
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
      for (const pid of groups) killGroup(pid, 'SIGKILL');
      groups.clear();
    },
  };
}
