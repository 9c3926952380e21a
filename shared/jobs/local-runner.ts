/**
 * The local JobRunner: runs the builder as a child process on this machine (local mode, tests).
 * Each job gets a temp dir holding its work dir and, beside it (outside the work dir), its config
 * file (mode 0600: it carries the job token and the values of the plan's secrets), which the
 * builder reads once and removes. The builder's environment is the minimal base (PATH, HOME,
 * locale), the Docker settings and BUILDER_CONFIG_PATH — nothing else of this process (no secret
 * key). An IPC channel ties the builder to this process: when it ends, even by `kill -9`, the
 * builder cancels its build and removes the temp dir itself (`removeOnExit`); normally the runner
 * removes it when the builder exits. cancel sends SIGTERM, as Kubernetes does when a Job's pod is
 * deleted, and the builder reports `canceled` itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuilderConfig } from '../plan/builder-config.ts';
import { builderEnv } from '../config/config.ts';
import type { JobRef, JobRunner, JobState } from './runner.ts';
import type { Logger } from '../log/logger.ts';
import { isBundled, packagePath } from '../runtime/package-path.ts';

/**
 * How to start the builder: its bundle when this code is bundled (an install, an image, or a
 * checkout after `npm run build`); from a source checkout, builder/main.ts through tsx — found by
 * absolute path, so `estafette start` works from any directory.
 */
function builderCommand(): { command: string[]; fromSource: boolean } {
  if (isBundled) return { command: [process.execPath, packagePath('dist/builder.mjs')], fromSource: false };
  const tsx = import.meta.resolve('tsx');
  return { command: [process.execPath, '--import', tsx, packagePath('builder/main.ts')], fromSource: true };
}

export interface LocalRunnerOptions {
  /** Command that runs the builder; BUILDER_CONFIG_PATH is set in its env. */
  command: string[];
  /** Extra env for the builder (e.g. DOCKER_HOST); added to the minimal base, never this process's whole env. */
  env: Record<string, string>;
  /** Where builder output that is not a report goes (its own diagnostics). */
  onOutput: (ref: JobRef, text: string) => void;
  /** Keep work dirs after the job (debugging). */
  keepWorkDirs: boolean;
  /** Where the runner's own notices go. */
  log?: Logger;
}

const DEFAULT_LOCAL_RUNNER_OPTIONS: LocalRunnerOptions = {
  command: builderCommand().command,
  env: {},
  onOutput: () => {},
  keepWorkDirs: false,
};

interface Running {
  child: ChildProcess;
  exited: Promise<number | null>;
}

const key = (ref: JobRef) => `${ref.kind}/${ref.id}`;
let toldAboutSource = false;

export class LocalJobRunner implements JobRunner {
  readonly name = 'local';
  private readonly running = new Map<string, Running>();
  private readonly finished = new Map<string, JobState>();
  private readonly options: LocalRunnerOptions;

  constructor(options: Partial<LocalRunnerOptions> = {}) {
    this.options = { ...DEFAULT_LOCAL_RUNNER_OPTIONS, ...options };
    if (!options.command && builderCommand().fromSource && !toldAboutSource) {
      toldAboutSource = true;
      this.options.log?.info('builders run from the TypeScript sources through tsx (a dev checkout; `npm run build` makes dist/builder.mjs)');
    }
  }

  async start(ref: JobRef, config: BuilderConfig): Promise<void> {
    const k = key(ref);
    if (this.running.has(k) || this.finished.has(k)) return; // idempotent: one builder per job
    const dir = await mkdtemp(join(tmpdir(), `estafette-${ref.kind}-${ref.id}-`));
    const workDir = join(dir, 'work');
    await mkdir(workDir);
    const configPath = join(dir, 'builder-config.json');
    const own: BuilderConfig = { ...config, workDir, ...(this.options.keepWorkDirs ? {} : { removeOnExit: dir }) };
    await writeFile(configPath, JSON.stringify(own), { mode: 0o600 });
    if (this.running.has(k)) return; // a concurrent start won the race while we wrote files
    const [cmd, ...args] = this.options.command;
    const child = spawn(cmd, args, {
      env: { ...builderEnv(), ...this.options.env, BUILDER_CONFIG_PATH: configPath },
      // The IPC channel is how the builder notices that this process is gone.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child.stdout?.on('data', (d) => this.options.onOutput(ref, String(d)));
    child.stderr?.on('data', (d) => this.options.onOutput(ref, String(d)));
    const exited = new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(null));
      child.on('exit', (code) => resolve(code));
    }).then(async (code) => {
      this.running.delete(k);
      this.finished.set(k, code === 0 ? 'succeeded' : 'failed');
      if (!this.options.keepWorkDirs) await rm(dir, { recursive: true, force: true }).catch(() => {});
      return code;
    });
    this.running.set(k, { child, exited });
  }

  async cancel(ref: JobRef): Promise<void> {
    const r = this.running.get(key(ref));
    if (!r) return;
    r.child.kill('SIGTERM');
    await r.exited;
  }

  async state(ref: JobRef): Promise<JobState> {
    const k = key(ref);
    if (this.running.has(k)) return 'running';
    return this.finished.get(k) ?? 'missing';
  }

  /** Resolves when the job's builder has exited (tests, shutdown). */
  async waitFor(ref: JobRef): Promise<number | null | undefined> {
    return this.running.get(key(ref))?.exited;
  }

  /** Number of builders running now. */
  get active(): number {
    return this.running.size;
  }

  /** Cancels every running builder and waits for them to exit. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.running.values()].map(async (r) => {
        r.child.kill('SIGTERM');
        await r.exited;
      }),
    );
  }
}
