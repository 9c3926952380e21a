/**
 * The state of one running build and the ways the orchestration reports it: the plan (secrets
 * applied), the build status that `when` sees, the masker every line and message goes through,
 * and stage reports with their times from the injected clock. One instance per `runBuild`;
 * the named parts of the build (run-build.ts, stage-attempts.ts, services.ts) share it.
 */
import { decideWhen } from '../shared/manifest/when.ts';
import type { LogStream, StageReport } from '../shared/logs/protocol.ts';
import type { BuilderConfig } from '../shared/plan/builder-config.ts';
import type { Plan, PlanStage } from '../shared/plan/types.ts';
import type { StageStatus } from '../shared/status/status.ts';
import { type Clock, isoNow, systemClock } from '../shared/time/clock.ts';
import type { Executor, LineSink, ServiceHandle } from './executors/executor.ts';
import { createMasker, type Masker } from './masking.ts';
import type { Reporter } from './reporter.ts';

/** What a build runs with. */
export interface BuildDeps {
  executor: Executor;
  reporter: Reporter;
  /** Aborts when the build is canceled (SIGTERM, or the process that started the builder is gone). */
  cancel: AbortSignal;
  /** Time source for timeouts, deadlines and durations (tests inject a fake one). */
  clock?: Clock;
}

export type StageKind = StageReport['kind'];

/** A stage run that has been reported running. */
export interface StartedRun {
  report: StageReport;
  t0: number;
}

/** A started service with its running report. */
export interface RunningService {
  handle: ServiceHandle;
  report: StageReport;
  started: number;
}

const DEFAULT_GRACE_SECONDS = 10;

/** The user and password of a URL like https://user:token@host/repo, decoded. */
function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    return [u.username, u.password].filter((x) => x !== '').map(decodeURIComponent);
  } catch {
    return [];
  }
}

/** The kind a stage is reported as. */
export const kindOf = (s: PlanStage): StageKind => (s.builtin ? 'builtin' : s.parallelStages.length > 0 ? 'parallel' : 'stage');

/** One build's state and reporting. */
export class BuildContext {
  readonly executor: Executor;
  readonly reporter: Reporter;
  readonly cancel: AbortSignal;
  readonly clock: Clock;
  /** Time between SIGTERM and SIGKILL of a canceled or timed-out stage. */
  readonly graceMs: number;
  /** The plan being run; its secrets are applied once `useSecrets` was called. */
  plan: Plan;
  /** What `when` sees as `status`: `failed` from the first failed stage on. */
  status: 'succeeded' | 'failed' = 'succeeded';
  /** The final report of every stage run, in the order they finished. */
  readonly finals: StageReport[] = [];
  /** Services that live until the last stage, in start order. */
  readonly multiStageServices: RunningService[] = [];
  /** Credentials and a token in the clone URL are masked too: git may echo them. */
  private readonly baseSecrets: string[];
  private mask: Masker;

  constructor(
    readonly config: BuilderConfig,
    deps: BuildDeps,
  ) {
    this.executor = deps.executor;
    this.reporter = deps.reporter;
    this.cancel = deps.cancel;
    this.clock = deps.clock ?? systemClock;
    this.graceMs = (config.cancelGraceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
    this.plan = config.plan;
    this.baseSecrets = [...(config.credentials ?? []).flatMap((c) => Object.values(c.values)), ...urlSecrets(config.git.cloneUrl)];
    this.mask = createMasker(this.baseSecrets);
  }

  /** Runs `plan` from now on and masks `values` (the decrypted secrets) in every line. */
  useSecrets(plan: Plan, values: readonly string[]): void {
    this.plan = plan;
    this.mask = createMasker([...this.baseSecrets, ...values]);
  }

  /** The build's status as reported at the end. */
  get outcome(): 'succeeded' | 'failed' | 'canceled' {
    return this.cancel.aborted ? 'canceled' : this.status;
  }

  report(r: StageReport): void {
    // Messages can quote executor or git errors; they are shown like log lines, so masked too.
    if (r.message) r = { ...r, message: this.mask(r.message) };
    if (r.status !== 'running') this.finals.push(r);
    this.reporter.status({ stages: [r] });
  }

  /** Reports a stage run as running. */
  started(stage: string, kind: StageKind, run = 1, parent?: string): StartedRun {
    const r: StageReport = { stage, run, kind, status: 'running', startedAt: isoNow(this.clock), ...(parent ? { parent } : {}) };
    this.report(r);
    return { report: r, t0: this.clock.now() };
  }

  /** Reports the end of a started run with its duration. */
  finished(s: StartedRun, status: StageStatus, message?: string): void {
    this.report({ ...s.report, status, finishedAt: isoNow(this.clock), durationMs: this.clock.now() - s.t0, ...(message ? { message } : {}) });
  }

  /** Reports a stage that did not run (skipped, canceled, failed before starting). */
  mark(stage: string, kind: StageKind, status: StageStatus, message?: string, parent?: string): void {
    this.report({ stage, run: 1, kind, status, ...(parent ? { parent } : {}), ...(message ? { message } : {}) });
  }

  /** Marks a stage and its parallel children with a status without running them. */
  markAll(s: PlanStage, status: StageStatus, message?: string, parent?: string): void {
    const path = parent ? `${parent}/${s.name}` : s.name;
    this.mark(path, kindOf(s), status, message, parent);
    for (const c of s.parallelStages) this.markAll(c, status, undefined, path);
  }

  /** Where a stage run's output goes: masked, then to the reporter. */
  sink(stage: string, run: number): LineSink {
    return (stream: LogStream, text: string) => this.reporter.line(stage, run, stream, this.mask(text));
  }

  /** A line of the builder's own about a stage run (stderr, `estafette: ` prefix). */
  note(stage: string, run: number, text: string): void {
    void this.reporter.line(stage, run, 'stderr', this.mask(`estafette: ${text}`));
  }

  /** Evaluates a `when`: true/false, or the message of an invalid expression (the rule `estafette plan` shows). */
  decide(when: string, env: Record<string, string>): boolean | string {
    return decideWhen(this.plan, when, env, this.status);
  }
}
