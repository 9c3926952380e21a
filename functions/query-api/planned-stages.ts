/**
 * The stage list the API serves for a build or release: every stage of its plan from the start,
 * in manifest order — services, then parallel children, under the stage that owns them — each
 * with what the builder reported about it, or `pending` when nothing was reported yet. Retries
 * follow the stage's first run; steps the system reported that are not in the plan
 * (validate-manifest, executor, cleanup, …) come before the plan when they started before it,
 * after it otherwise. Stages a re-run reused carry `reusedFrom`. Without a stored plan (an
 * invalid manifest) the reports are the list.
 */
import type { StageRun } from '../../shared/db/stages.ts';
import type { Plan, PlanStage, ReusedFrom } from '../../shared/plan/types.ts';

/** A stage as the API serves it. */
export interface ApiStage extends StageRun {
  /** Set when a re-run did not run this stage but kept the earlier build's result. */
  reusedFrom?: ReusedFrom;
}

type Planned = Pick<StageRun, 'stage' | 'parent' | 'kind'> & { reusedFrom?: ReusedFrom };

/** Every stage path of a plan in manifest order, with parent and kind. */
export function planOrder(plan: Plan): Planned[] {
  const out: Planned[] = [];
  const visit = (s: PlanStage, parent: string | null, reusedFrom: ReusedFrom | undefined) => {
    const path = parent ? `${parent}/${s.name}` : s.name;
    const kind: StageRun['kind'] = s.builtin ? 'builtin' : s.parallelStages.length ? 'parallel' : 'stage';
    out.push({ stage: path, parent, kind, ...(reusedFrom ? { reusedFrom } : {}) });
    for (const svc of s.services) out.push({ stage: `${path}/${svc.name}`, parent: path, kind: 'service', ...(reusedFrom ? { reusedFrom } : {}) });
    for (const c of s.parallelStages) visit(c, path, reusedFrom);
  };
  for (const s of plan.stages) visit(s, null, s.reusedFrom);
  return out;
}

/** The API's stage list from the plan (null: none stored) and the reported runs (as listStageRuns returns them). */
export function plannedStages(plan: Plan | null, runs: readonly StageRun[]): ApiStage[] {
  if (!plan) return [...runs];
  const order = planOrder(plan);
  const byStage = new Map<string, StageRun[]>();
  for (const r of runs) {
    const list = byStage.get(r.stage);
    if (list) list.push(r);
    else byStage.set(r.stage, [r]);
  }
  const planned: ApiStage[] = [];
  for (const p of order) {
    const reported = byStage.get(p.stage);
    byStage.delete(p.stage);
    const extra = p.reusedFrom ? { reusedFrom: p.reusedFrom } : {};
    if (!reported) {
      planned.push({ stage: p.stage, parent: p.parent, kind: p.kind, run: 1, status: 'pending', startedAt: null, finishedAt: null, durationMs: null, message: null, ...extra });
      continue;
    }
    for (const r of [...reported].sort((a, b) => a.run - b.run)) planned.push({ ...r, parent: r.parent ?? p.parent, ...extra });
  }
  const firstStart = planned
    .map((s) => s.startedAt)
    .filter((t): t is string => !!t)
    .sort()[0];
  const before: StageRun[] = [];
  const after: StageRun[] = [];
  for (const r of runs) {
    if (!byStage.has(r.stage)) continue;
    (!firstStart || (r.startedAt !== null && r.startedAt <= firstStart) ? before : after).push(r);
  }
  return [...before, ...planned, ...after];
}
