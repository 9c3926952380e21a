/**
 * One stage's runs: the first attempt and up to `retries` more, each its own `run` number, each
 * killed and failed after `timeoutSeconds` (a timer on the build's clock aborting the attempt),
 * each stopped within the grace period when the build is canceled. The builtin `git-clone`
 * runs in the builder itself; everything else through the executor. A failed attempt is a
 * result, never an exception.
 */
import type { PlanStage } from '../shared/plan/types.ts';
import type { StageStatus } from '../shared/status/status.ts';
import type { BuildContext, StageKind, StartedRun } from './build-context.ts';
import type { StageResult } from './executors/executor.ts';
import { cloneRepository } from './git-clone.ts';
import { completeChanges } from './changed-files.ts';
import { stageSpec } from './stage-spec.ts';

/** Runs one attempt of a stage, with its timeout; never rejects. */
async function attempt(ctx: BuildContext, s: PlanStage, path: string, run: number): Promise<{ result: StageResult; timedOut: boolean }> {
  const stop = new AbortController();
  let timedOut = false;
  const cancelTimer =
    s.timeoutSeconds !== undefined && s.timeoutSeconds > 0
      ? ctx.clock.setTimer(() => {
          timedOut = true;
          stop.abort();
        }, s.timeoutSeconds * 1000)
      : () => undefined;
  const onCancel = (): void => stop.abort();
  ctx.cancel.addEventListener('abort', onCancel, { once: true });
  try {
    const result = s.builtin === 'git-clone' ? await clone(ctx, path, run, stop.signal) : await ctx.executor.runStage(stageSpec(ctx, s, path), { onLine: ctx.sink(path, run), signal: stop.signal, graceMs: ctx.graceMs });
    return { result, timedOut };
  } catch (err) {
    return { result: { exitCode: 1, aborted: false, message: `executor error: ${(err as Error).message}` }, timedOut };
  } finally {
    cancelTimer();
    ctx.cancel.removeEventListener('abort', onCancel);
  }
}

/**
 * The builtin clone; then, when the plan knows only the push's before revision, its changed
 * files from the clone, for the `changed(…)` of the stages after it (changed-files.ts).
 */
async function clone(ctx: BuildContext, path: string, run: number, signal: AbortSignal): Promise<StageResult> {
  const result = await cloneRepository(ctx.config.git, ctx.config.workDir, ctx.sink(path, run), signal);
  if (result.exitCode === 0 && ctx.plan.changes) {
    ctx.plan = { ...ctx.plan, changes: await completeChanges(ctx.plan.changes, ctx.config.workDir, ctx.plan.revision, (l) => ctx.note(path, run, l), signal) };
  }
  return result;
}

/** Reports how an attempt ended; returns its status. */
function conclude(ctx: BuildContext, st: StartedRun, s: PlanStage, path: string, run: number, r: { result: StageResult; timedOut: boolean }): StageStatus {
  if (r.timedOut) {
    const message = `timed out after ${s.timeoutSeconds}s`;
    ctx.note(path, run, message);
    ctx.finished(st, 'failed', message);
    return 'failed';
  }
  if (ctx.cancel.aborted) {
    ctx.finished(st, 'canceled');
    return 'canceled';
  }
  if (r.result.exitCode === 0) {
    ctx.finished(st, 'succeeded');
    return 'succeeded';
  }
  if (r.result.message) ctx.note(path, run, r.result.message);
  ctx.finished(st, 'failed', r.result.message ?? `exit code ${r.result.exitCode}`);
  return 'failed';
}

/** Runs a stage with its retries; returns the status of its last run. */
export async function runAttempts(ctx: BuildContext, s: PlanStage, path: string, kind: StageKind, parent?: string): Promise<StageStatus> {
  const runs = Math.max(0, s.retries | 0) + 1;
  for (let run = 1; run <= runs; run++) {
    if (ctx.cancel.aborted) {
      ctx.mark(path, kind, 'canceled', undefined, parent);
      return 'canceled';
    }
    const st = ctx.started(path, kind, run, parent);
    const status = conclude(ctx, st, s, path, run, await attempt(ctx, s, path, run));
    if (status !== 'failed') return status;
    if (run < runs) ctx.note(path, run, `retrying (run ${run + 1} of ${runs})`);
  }
  return 'failed';
}
