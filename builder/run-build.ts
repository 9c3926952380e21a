/**
 * Runs one build's Plan: the orchestration shared by the builder in a Job and `estafette run`.
 *
 * Stages run in order; before each, its `when` is evaluated with the current `status` (starts
 * `succeeded`, becomes `failed` after a failing stage) — false marks it skipped, an invalid
 * expression fails it. Parallel children run concurrently; services start before their stage, are
 * waited for (readiness) and stop after it, or after the last stage when `multiStage`. A failed
 * stage is retried `retries` times (each attempt its own `run`) and killed after `timeoutSeconds`.
 * `${ESTAFETTE_*}` is expanded in images and commands; secrets are decrypted and their values
 * masked in every line. Cancel (the `cancel` signal) stops the running stage within the grace
 * period and marks everything left `canceled`. Executor resources are destroyed in `finally`.
 */
import { evaluateWhen, expandEstafetteVars, whenEvent } from '../shared/manifest/when.ts';
import { SecretError } from '../shared/secrets/secret.ts';
import type { LogStream, StageReport } from '../shared/logs/protocol.ts';
import type { BuilderConfig } from '../shared/plan/builder-config.ts';
import type { Plan, PlanService, PlanStage } from '../shared/plan/types.ts';
import type { StageStatus } from '../shared/status/status.ts';
import type { Executor, LineSink, ServiceHandle, StageResult, StageSpec } from './executors/executor.ts';
import { cloneRepository } from './git-clone.ts';
import { createMasker, type Masker } from './masking.ts';
import { decryptPlanSecrets, pipelineFullName } from './plan-secrets.ts';
import type { Reporter } from './reporter.ts';

/** Final status of a build. */
export type BuildStatus = 'succeeded' | 'failed' | 'canceled';

export interface BuildDeps {
  executor: Executor;
  reporter: Reporter;
  /** Aborts when the build is canceled (SIGTERM). */
  cancel: AbortSignal;
}

export interface BuildOutcome {
  status: BuildStatus;
  /** The final report of every stage run, in the order they finished. */
  stages: StageReport[];
}

const DEFAULT_GRACE_SECONDS = 10;
const READINESS_INTERVAL_MS = 250;

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

type StageKind = StageReport['kind'];

/** The user and password of a URL like https://user:token@host/repo, decoded. */
function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    return [u.username, u.password].filter((x) => x !== '').map(decodeURIComponent);
  } catch {
    return [];
  }
}

interface RunningService {
  handle: ServiceHandle;
  report: StageReport;
  started: number;
}

/** Runs the build described by `config`; resolves with its outcome once reported. */
export async function runBuild(config: BuilderConfig, deps: BuildDeps): Promise<BuildOutcome> {
  const { executor, reporter, cancel } = deps;
  const graceMs = (config.cancelGraceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
  const finals: StageReport[] = [];
  let status: 'succeeded' | 'failed' = 'succeeded';
  // Credentials (and a token embedded in the clone URL) are secrets too: git may echo them.
  const baseSecrets = [...(config.credentials ?? []).flatMap((c) => Object.values(c.values)), ...urlSecrets(config.git.cloneUrl)];
  let mask: Masker = createMasker(baseSecrets);
  let plan: Plan = config.plan;

  const report = (r: StageReport): void => {
    // Messages can quote executor or git errors; they are shown like log lines, so masked too.
    if (r.message) r = { ...r, message: mask(r.message) };
    if (r.status !== 'running') finals.push(r);
    reporter.status({ stages: [r] });
  };
  const sink =
    (stage: string, run: number): LineSink =>
    (stream: LogStream, text: string) =>
      reporter.line(stage, run, stream, mask(text));
  const note = (stage: string, run: number, text: string): void => void reporter.line(stage, run, 'stderr', mask(`estafette: ${text}`));

  const started = (stage: string, kind: StageKind, run = 1, parent?: string): { report: StageReport; t0: number } => {
    const r: StageReport = { stage, run, kind, status: 'running', startedAt: new Date().toISOString(), ...(parent ? { parent } : {}) };
    report(r);
    return { report: r, t0: Date.now() };
  };
  const finished = (s: { report: StageReport; t0: number }, st: StageStatus, message?: string): void =>
    report({ ...s.report, status: st, finishedAt: new Date().toISOString(), durationMs: Date.now() - s.t0, ...(message ? { message } : {}) });
  const single = (stage: string, kind: StageKind, st: StageStatus, message?: string, parent?: string): void =>
    report({ stage, run: 1, kind, status: st, ...(parent ? { parent } : {}), ...(message ? { message } : {}) });

  const whenParams = (): Record<string, string> => ({
    status,
    branch: plan.branch,
    action: plan.action ?? '',
    trigger: plan.estafetteEnv.ESTAFETTE_TRIGGER_EVENT ?? '',
    event: whenEvent(plan.estafetteEnv),
    server: 'estafette',
  });
  /** true/false, or the error message of an invalid expression. */
  const decide = (when: string, env: Record<string, string>): boolean | string => {
    try {
      return evaluateWhen(when || "status == 'succeeded'", whenParams(), { ...plan.estafetteEnv, ...env, ESTAFETTE_BUILD_STATUS: status });
    } catch (err) {
      return `invalid when '${when}': ${(err as Error).message}`;
    }
  };

  const kindOf = (s: PlanStage): StageKind => (s.builtin ? 'builtin' : s.parallelStages.length > 0 ? 'parallel' : 'stage');

  /** Marks a stage (and its children/services) with a status without running it. */
  const markAll = (s: PlanStage, st: StageStatus, message?: string, parent?: string): void => {
    const path = parent ? `${parent}/${s.name}` : s.name;
    single(path, kindOf(s), st, message, parent);
    for (const c of s.parallelStages) markAll(c, st, undefined, path);
  };

  const specFor = (s: PlanStage, path: string): StageSpec => {
    const env = { ...plan.estafetteEnv, ...s.env, ESTAFETTE_BUILD_STATUS: status };
    return {
      path,
      image: expandEstafetteVars(s.image, env),
      shell: s.shell || '/bin/sh',
      workDir: s.workDir || '/estafette-work',
      commands: s.commands.map((c) => expandEstafetteVars(c, env)),
      env,
    };
  };

  /** Runs one stage with retries and timeout; returns the status of its last run. */
  const attempts = async (s: PlanStage, path: string, kind: StageKind, parent?: string): Promise<StageStatus> => {
    const runs = Math.max(0, s.retries | 0) + 1;
    for (let run = 1; run <= runs; run++) {
      if (cancel.aborted) {
        single(path, kind, 'canceled', undefined, parent);
        return 'canceled';
      }
      const st = started(path, kind, run, parent);
      const attempt = new AbortController();
      let timedOut = false;
      const timer =
        s.timeoutSeconds !== undefined && s.timeoutSeconds > 0
          ? setTimeout(() => {
              timedOut = true;
              attempt.abort();
            }, s.timeoutSeconds * 1000)
          : undefined;
      const onCancel = (): void => attempt.abort();
      cancel.addEventListener('abort', onCancel, { once: true });
      let result: StageResult;
      try {
        result =
          s.builtin === 'git-clone'
            ? await cloneRepository(config.git, config.workDir, sink(path, run), attempt.signal)
            : await executor.runStage(specFor(s, path), { onLine: sink(path, run), signal: attempt.signal, graceMs });
      } catch (err) {
        result = { exitCode: 1, aborted: false, message: `executor error: ${(err as Error).message}` };
      } finally {
        clearTimeout(timer);
        cancel.removeEventListener('abort', onCancel);
      }
      if (timedOut) {
        const message = `timed out after ${s.timeoutSeconds}s`;
        note(path, run, message);
        finished(st, 'failed', message);
      } else if (cancel.aborted) {
        finished(st, 'canceled');
        return 'canceled';
      } else if (result.exitCode === 0) {
        finished(st, 'succeeded');
        return 'succeeded';
      } else {
        const message = result.message ?? `exit code ${result.exitCode}`;
        if (result.message) note(path, run, result.message);
        finished(st, 'failed', message);
      }
      if (run < runs) note(path, run, `retrying (run ${run + 1} of ${runs})`);
    }
    return 'failed';
  };

  const waitReady = async (svc: PlanService, handle: ServiceHandle): Promise<string | undefined> => {
    const readiness = svc.readiness;
    if (!readiness) return undefined;
    const deadline = Date.now() + readiness.timeoutSeconds * 1000;
    let exited = false;
    void handle.exited.then(() => (exited = true));
    while (!cancel.aborted) {
      if (await executor.probeService(handle, readiness)) return undefined;
      if (exited) return `service ${svc.name} exited before it was ready`;
      if (Date.now() >= deadline) return `service ${svc.name} not ready after ${readiness.timeoutSeconds}s`;
      await sleep(READINESS_INTERVAL_MS, cancel);
    }
    return 'canceled';
  };

  const stopService = async (rs: RunningService): Promise<void> => {
    await executor.stopService(rs.handle, graceMs).catch(() => undefined);
    report({ ...rs.report, status: cancel.aborted ? 'canceled' : 'succeeded', finishedAt: new Date().toISOString(), durationMs: Date.now() - rs.started });
  };

  /** Starts the stage's services; returns those started, or the reason the stage cannot run. */
  const startServices = async (s: PlanStage, path: string, out: { local: RunningService[]; multi: RunningService[] }): Promise<string | undefined> => {
    for (const svc of s.services) {
      const svcPath = `${path}/${svc.name}`;
      const d = decide(svc.when, svc.env);
      if (d === false) {
        single(svcPath, 'service', 'skipped', undefined, path);
        continue;
      }
      if (typeof d === 'string') {
        single(svcPath, 'service', 'failed', d, path);
        return d;
      }
      const st = started(svcPath, 'service', 1, path);
      let handle: ServiceHandle;
      try {
        handle = await executor.startService(
          { path: svcPath, name: svc.name, image: expandEstafetteVars(svc.image, svc.env), shell: svc.shell || '/bin/sh', commands: svc.commands.map((c) => expandEstafetteVars(c, { ...plan.estafetteEnv, ...svc.env })), env: { ...plan.estafetteEnv, ...svc.env } },
          sink(svcPath, 1),
        );
      } catch (err) {
        const message = `service ${svc.name} did not start: ${(err as Error).message}`;
        finished(st, 'failed', message);
        return message;
      }
      const rs: RunningService = { handle, report: st.report, started: st.t0 };
      (svc.multiStage ? out.multi : out.local).push(rs);
      const problem = await waitReady(svc, handle);
      if (problem) {
        if (problem !== 'canceled') note(svcPath, 1, problem);
        return problem;
      }
    }
    return undefined;
  };

  const multiStage: RunningService[] = [];

  /** Starts the stage's services, runs `body`, then stops the services that end with the stage. */
  const withServices = async (s: PlanStage, path: string, parent: string | undefined, body: () => Promise<StageStatus>): Promise<StageStatus> => {
    const local: RunningService[] = [];
    try {
      if (s.services.length > 0) {
        const problem = await startServices(s, path, { local, multi: multiStage });
        if (problem) {
          const st: StageStatus = cancel.aborted ? 'canceled' : 'failed';
          markAll(s, st, st === 'failed' ? problem : undefined, parent);
          return st;
        }
      }
      return await body();
    } finally {
      for (const rs of local.reverse()) await stopService(rs);
    }
  };

  /** One parallel child: its own `when` (with the status the parent started with) and services. */
  const runChild = async (c: PlanStage, parent: string): Promise<StageStatus> => {
    const path = `${parent}/${c.name}`;
    if (cancel.aborted) return markAll(c, 'canceled', undefined, parent), 'canceled';
    const d = decide(c.when, c.env);
    if (typeof d === 'string') return single(path, kindOf(c), 'failed', d, parent), 'failed';
    if (!d) return single(path, kindOf(c), 'skipped', undefined, parent), 'skipped';
    return withServices(c, path, parent, () => attempts(c, path, kindOf(c), parent));
  };

  const runTop = async (s: PlanStage): Promise<void> => {
    const kind = kindOf(s);
    if (cancel.aborted) return markAll(s, 'canceled');
    const d = decide(s.when, s.env);
    if (typeof d === 'string') {
      markAll(s, 'failed', d);
      note(s.name, 1, d);
      status = 'failed';
      return;
    }
    if (!d) return markAll(s, 'skipped');
    if (s.builtin === 'git-clone' && !config.git.clone) return markAll(s, 'skipped', 'no clone for this run');

    const result = await withServices(s, s.name, undefined, async () => {
      if (kind !== 'parallel') return attempts(s, s.name, kind);
      const st = started(s.name, 'parallel');
      const results = await Promise.all(s.parallelStages.map((c) => runChild(c, s.name)));
      const r: StageStatus = results.includes('failed') ? 'failed' : results.includes('canceled') || cancel.aborted ? 'canceled' : 'succeeded';
      finished(st, r);
      return r;
    });
    if (result === 'failed') status = 'failed';
  };

  reporter.status({ status: 'running' });
  try {
    try {
      const decrypted = decryptPlanSecrets(plan, config.secretKey);
      plan = decrypted.plan;
      mask = createMasker([...baseSecrets, ...decrypted.values]);
    } catch (err) {
      if (!(err instanceof SecretError)) throw err;
      note('validate-secrets', 1, err.message);
      single('validate-secrets', 'builtin', 'failed', err.message);
      for (const s of plan.stages) markAll(s, 'skipped');
      status = 'failed';
      return { status, stages: finals };
    }
    try {
      try {
        await executor.setup({ kind: config.job.kind, jobId: config.job.id, pipeline: pipelineFullName(plan), workDir: config.workDir });
      } catch (err) {
        // No stage can run without the executor (e.g. no Docker engine): one failed step says why.
        const message = `the ${executor.name} executor cannot start: ${(err as Error).message}`;
        note('executor', 1, message);
        single('executor', 'builtin', 'failed', message);
        for (const s of plan.stages) markAll(s, 'skipped');
        status = 'failed';
        return { status, stages: finals };
      }
      for (const s of plan.stages) await runTop(s);
    } finally {
      for (const rs of multiStage.reverse()) await stopService(rs);
      await executor.destroy().catch((err: Error) => note('cleanup', 1, `cleanup failed: ${err.message}`));
    }
    return { status: cancel.aborted ? 'canceled' : status, stages: finals };
  } finally {
    // Always the last report: the job's final status, after every line and stage report.
    reporter.status({ status: cancel.aborted ? 'canceled' : status });
  }
}
