/**
 * A stage's services: each is started (its own `when` decides, with the status the stage sees),
 * waited for (its readiness probe, retried every 250 ms on the build's clock until its timeout,
 * its exit or a cancel) and stopped after the stage — or, when `multiStage`, after the last stage
 * of the build (`stopMultiStageServices`). A service that cannot start or get ready fails its
 * stage before the stage runs.
 */
import type { PlanService, PlanStage } from '../shared/plan/types.ts';
import type { StageStatus } from '../shared/status/status.ts';
import { isoNow, sleep } from '../shared/time/clock.ts';
import type { BuildContext, RunningService } from './build-context.ts';
import type { ServiceHandle } from './executors/executor.ts';
import { serviceSpec } from './stage-spec.ts';

const READINESS_INTERVAL_MS = 250;

/** Waits for a service's readiness; undefined when ready, else why not ('canceled' on cancel). */
async function waitReady(ctx: BuildContext, svc: PlanService, handle: ServiceHandle): Promise<string | undefined> {
  const readiness = svc.readiness;
  if (!readiness) return undefined;
  const deadline = ctx.clock.now() + readiness.timeoutSeconds * 1000;
  let exited = false;
  void handle.exited.then(() => (exited = true));
  while (!ctx.cancel.aborted) {
    if (await ctx.executor.probeService(handle, readiness)) return undefined;
    if (exited) return `service ${svc.name} exited before it was ready`;
    if (ctx.clock.now() >= deadline) return `service ${svc.name} not ready after ${readiness.timeoutSeconds}s`;
    await sleep(ctx.clock, READINESS_INTERVAL_MS, ctx.cancel);
  }
  return 'canceled';
}

async function stopService(ctx: BuildContext, rs: RunningService): Promise<void> {
  await ctx.executor.stopService(rs.handle, ctx.graceMs).catch(() => undefined);
  ctx.report({ ...rs.report, status: ctx.cancel.aborted ? 'canceled' : 'succeeded', finishedAt: isoNow(ctx.clock), durationMs: ctx.clock.now() - rs.started });
}

/** Starts the stage's services (into `local`, or the build's multi-stage list); returns why the stage cannot run, if so. */
async function startServices(ctx: BuildContext, s: PlanStage, path: string, local: RunningService[]): Promise<string | undefined> {
  for (const svc of s.services) {
    const svcPath = `${path}/${svc.name}`;
    const d = ctx.decide(svc.when, svc.env);
    if (d === false) {
      ctx.mark(svcPath, 'service', 'skipped', undefined, path);
      continue;
    }
    if (typeof d === 'string') {
      ctx.mark(svcPath, 'service', 'failed', d, path);
      return d;
    }
    const st = ctx.started(svcPath, 'service', 1, path);
    let handle: ServiceHandle;
    try {
      handle = await ctx.executor.startService(serviceSpec(ctx, svc, path), ctx.sink(svcPath, 1));
    } catch (err) {
      const message = `service ${svc.name} did not start: ${(err as Error).message}`;
      ctx.finished(st, 'failed', message);
      return message;
    }
    const rs: RunningService = { handle, report: st.report, started: st.t0 };
    (svc.multiStage ? ctx.multiStageServices : local).push(rs);
    const problem = await waitReady(ctx, svc, handle);
    if (problem) {
      if (problem !== 'canceled') ctx.note(svcPath, 1, problem);
      return problem;
    }
  }
  return undefined;
}

/**
 * Starts the stage's services, runs `body`, then stops the services that end with the stage.
 * When a service cannot start or get ready, the stage (and its children) is marked failed —
 * canceled on cancel — and `body` does not run.
 */
export async function withServices(ctx: BuildContext, s: PlanStage, path: string, parent: string | undefined, body: () => Promise<StageStatus>): Promise<StageStatus> {
  const local: RunningService[] = [];
  try {
    if (s.services.length > 0) {
      const problem = await startServices(ctx, s, path, local);
      if (problem) {
        const st: StageStatus = ctx.cancel.aborted ? 'canceled' : 'failed';
        ctx.markAll(s, st, st === 'failed' ? problem : undefined, parent);
        return st;
      }
    }
    return await body();
  } finally {
    for (const rs of local.reverse()) await stopService(ctx, rs);
  }
}

/** Stops the build's multi-stage services, last started first. */
export async function stopMultiStageServices(ctx: BuildContext): Promise<void> {
  const list = ctx.multiStageServices.splice(0);
  for (const rs of list.reverse()) await stopService(ctx, rs);
}
