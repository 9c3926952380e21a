/**
 * "Re-run failed stages" of a failed build (as GitHub's "re-run failed jobs"): the new build,
 * of the same version and revision, runs again from the first top-level stage that did not
 * succeed; the stages before it are marked `reusedFrom` the failed build in the plan, so the
 * builder does not run them, and their stage rows are copied with the earlier result (message
 * "reused from build #N"). Built-in steps (git-clone) always run again: the stages that follow
 * need the checkout. Files a reused stage wrote into the work dir are not there in the new
 * build, so a later stage that needs them fails again — the user then rebuilds in full.
 */
import { getBuild, type Build } from '../../shared/db/builds.ts';
import { listStageRuns, upsertStageRuns, type StageRun } from '../../shared/db/stages.ts';
import type { StageReport } from '../../shared/logs/protocol.ts';
import type { Plan } from '../../shared/plan/types.ts';
import type { DispatchDeps } from './deps.ts';

const REUSABLE = new Set(['succeeded', 'skipped']);

/** The latest run of each stage path. */
function latestRuns(runs: readonly StageRun[]): Map<string, StageRun> {
  const out = new Map<string, StageRun>();
  for (const r of runs) if ((out.get(r.stage)?.run ?? 0) < r.run) out.set(r.stage, r);
  return out;
}

/**
 * The plan of `build` (a re-run of `failedId`) with the stages before the first failed one
 * marked reused, their stage rows written; the plan unchanged when nothing can be reused.
 */
export async function reuseStagesBeforeFailure(deps: DispatchDeps, build: Build, plan: Plan, failedId: string): Promise<Plan> {
  const failed = await getBuild(deps.pool, failedId);
  if (!failed || failed.pipelineId !== build.pipelineId) {
    deps.log.info({ buildId: build.id, rerunOf: failedId }, 're-run runs every stage: the failed build is not of this pipeline');
    return plan;
  }
  const latest = latestRuns(await listStageRuns(deps.pool, 'build', failed.id));
  const reused = new Set<string>();
  for (const s of plan.stages) {
    const status = latest.get(s.name)?.status;
    if (!status || !REUSABLE.has(status)) break;
    if (!s.builtin) reused.add(s.name);
  }
  if (!reused.size) {
    deps.log.info({ buildId: build.id, rerunOf: failed.id }, `re-run of build #${failed.buildNumber} runs every stage: its first stage did not succeed`);
    return plan;
  }
  const reusedFrom = { buildId: failed.id, buildNumber: failed.buildNumber };
  const message = `reused from build #${failed.buildNumber}`;
  const rows: StageReport[] = [...latest.values()]
    .filter((r) => reused.has(r.stage.split('/')[0]!))
    .map((r) => ({
      stage: r.stage,
      run: 1,
      kind: r.kind,
      status: r.status,
      message,
      ...(r.parent ? { parent: r.parent } : {}),
      ...(r.startedAt ? { startedAt: r.startedAt } : {}),
      ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}),
      ...(r.durationMs !== null ? { durationMs: r.durationMs } : {}),
    }));
  await upsertStageRuns(deps.pool, 'build', build.id, rows);
  deps.log.info({ buildId: build.id, rerunOf: failed.id, reused: [...reused] }, `re-run of build #${failed.buildNumber} from its first failed stage; reused ${[...reused].join(', ')}`);
  return { ...plan, stages: plan.stages.map((s) => (reused.has(s.name) ? { ...s, reusedFrom } : s)) };
}
