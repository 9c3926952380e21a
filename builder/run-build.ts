/**
 * Runs one build's Plan: the orchestration shared by the builder in a Job and `estafette run`,
 * in named parts:
 *
 * 1. `applySecrets` — the values build-dispatch opened replace their envelopes and are masked in
 *    every line; a plan whose secrets were refused fails with a `validate-secrets` step.
 * 2. `setupExecutor` — per-build resources (docker: the network); a failure is one failed step.
 * 3. `runTopStage` for each stage in order — its `when` evaluated with the current `status`
 *    (`succeeded`, `failed` after a failing stage): false skips it, an invalid expression fails
 *    it; its services around it (services.ts); then its runs with retries and timeout
 *    (stage-attempts.ts), its parallel children concurrently (`runParallel`), or nothing more
 *    when it is a stage of services only, which then succeeds and leaves them to later stages.
 * 4. Always: multi-stage services stopped, executor resources destroyed, the final job status
 *    reported last.
 *
 * Cancel (the `cancel` signal) stops the running stage within the grace period and marks
 * everything left `canceled`. A stage a re-run of failed stages reuses (`reusedFrom`, set by
 * build-dispatch, which also stored its result) is not run and not reported (`reuseStage`). Each
 * top-level stage is a span of the build's trace.
 */
import { applyPlanSecrets, pipelineFullName } from '../shared/secrets/plan-secrets.ts';
import type { StageReport } from '../shared/logs/protocol.ts';
import type { BuilderConfig } from '../shared/plan/builder-config.ts';
import type { PlanStage } from '../shared/plan/types.ts';
import type { StageStatus } from '../shared/status/status.ts';
import { inSpan } from '../shared/trace/tracing.ts';
import { BuildContext, kindOf, type BuildDeps } from './build-context.ts';
import { stopMultiStageServices, withServices } from './services.ts';
import { runAttempts } from './stage-attempts.ts';

export type { BuildDeps } from './build-context.ts';

/** Final status of a build. */
export type BuildStatus = 'succeeded' | 'failed' | 'canceled';

export interface BuildOutcome {
  status: BuildStatus;
  /** The final report of every stage run, in the order they finished. */
  stages: StageReport[];
}

/** A stage that only starts services (no image, commands or children), as Estafette allows. */
const isServicesOnly = (s: PlanStage): boolean => !s.builtin && !s.image && s.commands.length === 0 && s.parallelStages.length === 0 && s.services.length > 0;

/** Fails the build before any stage runs: one failed builtin step saying why, every stage skipped. */
function failBeforeStages(ctx: BuildContext, step: string, message: string): void {
  ctx.note(step, 1, message);
  ctx.mark(step, 'builtin', 'failed', message);
  for (const s of ctx.plan.stages) ctx.markAll(s, 'skipped');
  ctx.status = 'failed';
}

/** Puts the secrets' values in the plan; false (build failed) when they were refused. */
function applySecrets(ctx: BuildContext): boolean {
  const secrets = ctx.config.secrets;
  if (secrets?.refused) {
    failBeforeStages(ctx, 'validate-secrets', secrets.refused);
    return false;
  }
  const applied = applyPlanSecrets(ctx.plan, secrets);
  ctx.useSecrets(applied.plan, applied.values);
  return true;
}

/** Prepares the executor; false (build failed) when it cannot start. */
async function setupExecutor(ctx: BuildContext): Promise<boolean> {
  const { config, executor } = ctx;
  try {
    await executor.setup({ kind: config.job.kind, jobId: config.job.id, pipeline: pipelineFullName(ctx.plan), workDir: config.workDir });
    return true;
  } catch (err) {
    // No stage can run without the executor (e.g. no Docker engine): one failed step says why.
    failBeforeStages(ctx, 'executor', `the ${executor.name} executor cannot start: ${(err as Error).message}`);
    return false;
  }
}

/** Runs the parallel children of `s` concurrently; the parent fails when a child fails. */
async function runParallel(ctx: BuildContext, s: PlanStage): Promise<StageStatus> {
  const st = ctx.started(s.name, 'parallel');
  const results = await Promise.all(s.parallelStages.map((c) => runChild(ctx, c, s.name)));
  const r: StageStatus = results.includes('failed') ? 'failed' : results.includes('canceled') || ctx.cancel.aborted ? 'canceled' : 'succeeded';
  ctx.finished(st, r);
  return r;
}

/** What a stage does once its services are up. */
function stageBody(ctx: BuildContext, s: PlanStage, path: string, parent?: string): () => Promise<StageStatus> {
  return async () => {
    if (isServicesOnly(s)) {
      ctx.finished(ctx.started(path, 'stage', 1, parent), ctx.cancel.aborted ? 'canceled' : 'succeeded');
      return ctx.cancel.aborted ? 'canceled' : 'succeeded';
    }
    if (kindOf(s) === 'parallel' && !parent) return runParallel(ctx, s);
    return runAttempts(ctx, s, path, kindOf(s), parent);
  };
}

/** One parallel child: its own `when` (with the status the parent started with) and services. */
async function runChild(ctx: BuildContext, c: PlanStage, parent: string): Promise<StageStatus> {
  const path = `${parent}/${c.name}`;
  if (ctx.cancel.aborted) return (ctx.markAll(c, 'canceled', undefined, parent), 'canceled');
  const d = ctx.decide(c.when, c.env);
  if (typeof d === 'string') return (ctx.mark(path, kindOf(c), 'failed', d, parent), 'failed');
  if (!d) return (ctx.mark(path, kindOf(c), 'skipped', undefined, parent), 'skipped');
  return withServices(ctx, c, path, parent, stageBody(ctx, c, path, parent));
}

/** A stage the re-run reuses: one line in its log says where its result comes from. */
function reuseStage(ctx: BuildContext, s: PlanStage): void {
  void ctx.reporter.line(s.name, 1, 'stdout', `estafette: not run again: the result of build #${s.reusedFrom!.buildNumber} is reused`);
}

/** One top-level stage. */
async function runTopStage(ctx: BuildContext, s: PlanStage): Promise<void> {
  if (s.reusedFrom) return reuseStage(ctx, s);
  if (ctx.cancel.aborted) return ctx.markAll(s, 'canceled');
  const d = ctx.decide(s.when, s.env);
  if (typeof d === 'string') {
    ctx.markAll(s, 'failed', d);
    ctx.note(s.name, 1, d);
    ctx.status = 'failed';
    return;
  }
  if (!d) return ctx.markAll(s, 'skipped');
  if (s.builtin === 'git-clone' && !ctx.config.git.clone) return ctx.markAll(s, 'skipped', 'no clone for this run');
  const result = await withServices(ctx, s, s.name, undefined, stageBody(ctx, s, s.name));
  if (result === 'failed') ctx.status = 'failed';
}

/** Runs the build described by `config`; resolves with its outcome once reported. */
export async function runBuild(config: BuilderConfig, deps: BuildDeps): Promise<BuildOutcome> {
  const ctx = new BuildContext(config, deps);
  ctx.reporter.status({ status: 'running' });
  try {
    if (!applySecrets(ctx)) return { status: ctx.outcome, stages: ctx.finals };
    try {
      if (!(await setupExecutor(ctx))) return { status: ctx.outcome, stages: ctx.finals };
      for (const s of ctx.plan.stages) await inSpan(`stage ${s.name}`, { attributes: { 'estafette.stage': s.name } }, () => runTopStage(ctx, s));
    } finally {
      await stopMultiStageServices(ctx);
      await ctx.executor.destroy().catch((err: Error) => ctx.note('cleanup', 1, `cleanup failed: ${err.message}`));
    }
    return { status: ctx.outcome, stages: ctx.finals };
  } finally {
    // Always the last report: the job's final status, after every line and stage report.
    ctx.reporter.status({ status: ctx.outcome });
  }
}
