/**
 * A scripted fake Executor for fast, deterministic tests of the builder's orchestration: each
 * stage and service does what its script says (print lines, exit with a code, hang until
 * stopped, answer readiness probes in a given order), and every call is recorded. It keeps the
 * Executor contract (executor.ts): abort resolves a run with `aborted: true`, a failure is a
 * result, `stopService` and `destroy` are idempotent. Nothing in it waits on real time.
 */
import type { Readiness } from '../../shared/plan/types.ts';
import type { LogStream } from '../../shared/logs/protocol.ts';
import type { BuildInfo, Executor, LineSink, RunOptions, ServiceHandle, ServiceSpec, StageResult, StageSpec } from '../../builder/executors/executor.ts';

/** What one stage does when it runs. */
export interface StageScript {
  /** Lines printed in order (stdout unless a stream is given). */
  lines?: Array<string | { stream: LogStream; text: string }>;
  /** Exit code; a function gets the 1-based attempt number. Default 0. */
  exit?: number | ((attempt: number) => number);
  /** Failure message (e.g. "image x not found"). */
  message?: string;
  /** Runs until stopped (signal): a stage that never ends by itself. */
  hang?: boolean;
  /** Anything else, awaited after the lines (e.g. wait for another stage). */
  run?: (spec: StageSpec, options: RunOptions, attempt: number) => Promise<void>;
  /** Rejects instead of resolving: a broken executor. */
  throws?: string;
}

/** What one service does. */
export interface ServiceScript {
  /** Answers of its readiness probes in order; the last one repeats. Default: ready. */
  ready?: boolean[];
  /** startService rejects with this message. */
  fail?: string;
  /** The service exits by itself after this many probes. */
  exitAfterProbes?: number;
}

interface FakeService extends ServiceHandle {
  probes: number;
  exit(): void;
}

/** Settles when `signal` aborts. */
const aborted = (signal: AbortSignal): Promise<void> => new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));

export class FakeExecutor implements Executor {
  readonly name = 'fake';
  /** Every call, in order: `setup`, `run <path>#<attempt>`, `start <path>`, `probe <path>`, `stop <path>`, `destroy`. */
  readonly calls: string[] = [];
  /** The spec of every stage run, in order. */
  readonly specs: StageSpec[] = [];
  readonly serviceSpecs: ServiceSpec[] = [];
  build?: BuildInfo;
  private readonly attempts = new Map<string, number>();
  private readonly startWaiters = new Map<string, Array<() => void>>();
  private readonly live = new Set<FakeService>();

  constructor(private readonly scripts: { stages?: Record<string, StageScript>; services?: Record<string, ServiceScript>; setupError?: string } = {}) {}

  /** Resolves once the stage at `path` has started running (any attempt). */
  started(path: string): Promise<void> {
    if (this.calls.some((c) => c.startsWith(`run ${path}#`))) return Promise.resolve();
    return new Promise((resolve) => this.startWaiters.set(path, [...(this.startWaiters.get(path) ?? []), resolve]));
  }

  /** Services started and not stopped (must be none after a build). */
  get running(): string[] {
    return [...this.live].map((s) => s.spec.path);
  }

  async setup(build: BuildInfo): Promise<void> {
    this.calls.push('setup');
    if (this.scripts.setupError) throw new Error(this.scripts.setupError);
    this.build = build;
  }

  async runStage(stage: StageSpec, options: RunOptions): Promise<StageResult> {
    const attempt = (this.attempts.get(stage.path) ?? 0) + 1;
    this.attempts.set(stage.path, attempt);
    this.calls.push(`run ${stage.path}#${attempt}`);
    this.specs.push(stage);
    for (const w of this.startWaiters.get(stage.path) ?? []) w();
    this.startWaiters.delete(stage.path);
    const script = this.scripts.stages?.[stage.path] ?? {};
    if (script.throws) throw new Error(script.throws);
    for (const l of script.lines ?? []) {
      const { stream, text } = typeof l === 'string' ? { stream: 'stdout' as const, text: l } : l;
      await options.onLine(stream, text);
    }
    if (script.run) await Promise.race([script.run(stage, options, attempt), aborted(options.signal)]);
    if (script.hang) await aborted(options.signal);
    if (options.signal.aborted) return { exitCode: 143, aborted: true };
    const exitCode = typeof script.exit === 'function' ? script.exit(attempt) : (script.exit ?? 0);
    return { exitCode, aborted: false, ...(script.message ? { message: script.message } : {}) };
  }

  async startService(service: ServiceSpec, _onLine: LineSink): Promise<ServiceHandle> {
    this.calls.push(`start ${service.path}`);
    this.serviceSpecs.push(service);
    const script = this.scripts.services?.[service.path] ?? {};
    if (script.fail) throw new Error(script.fail);
    let exit = (): void => undefined;
    const exited = new Promise<void>((resolve) => (exit = resolve));
    const handle: FakeService = { spec: service, exited, probes: 0, exit };
    this.live.add(handle);
    return handle;
  }

  async probeService(handle: ServiceHandle, _readiness: Readiness): Promise<boolean> {
    const svc = handle as FakeService;
    this.calls.push(`probe ${svc.spec.path}`);
    const script = this.scripts.services?.[svc.spec.path] ?? {};
    const answers = script.ready ?? [true];
    const answer = answers[Math.min(svc.probes, answers.length - 1)]!;
    svc.probes++;
    if (script.exitAfterProbes !== undefined && svc.probes >= script.exitAfterProbes) svc.exit();
    return answer;
  }

  async stopService(handle: ServiceHandle, _graceMs: number): Promise<void> {
    const svc = handle as FakeService;
    if (!this.live.has(svc)) return;
    this.calls.push(`stop ${svc.spec.path}`);
    this.live.delete(svc);
    svc.exit();
  }

  async destroy(): Promise<void> {
    this.calls.push('destroy');
    for (const s of this.live) s.exit();
    this.live.clear();
  }
}
