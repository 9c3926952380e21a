/**
 * Admission: moves waiting jobs into free slots. A queued build or release becomes `pending`
 * (admitted) inside one transaction that first locks its queue's row (shared/db/queue-locks.ts),
 * counts the active jobs and admits the oldest waiting ones that fit — so with any number of
 * build-dispatch instances a slot is given exactly once. The Jobs of the admitted are started
 * after the commit; the runner's start is idempotent, so a redelivered event or the backstop
 * below re-starting one is harmless.
 *
 * Nothing here runs on a timer: admission is called when something may have freed a slot or
 * added a waiter (a build or release queued or finished, a cancel, an approval) and on every
 * `queue.advance` that cron-relay's tick publishes — the backstop that also expires approvals and
 * re-starts admitted jobs whose start was lost (an instance died between commit and start).
 *
 * Limits: a build waits for its pipeline's `concurrency.builds` (per branch with `perBranch`) and
 * for ESTAFETTE_MAX_RUNNING_BUILDS; a release for its target's `concurrency` (default 1) per
 * action. Order is first come first served: the server-wide queue is strict FIFO (when it is
 * full nothing is admitted), while a build whose own pipeline is full lets later builds of
 * other pipelines go ahead.
 */
import { systemClock } from '../../../shared/time/clock.ts';
import { getBuild, getBuildJobStart, getBuildPlan, listQueuedBuilds, countActiveBuilds, listStaleBuilds, transitionBuildStatusIn, type Build } from '../../../shared/db/builds.ts';
import { getPipelineById } from '../../../shared/db/pipelines.ts';
import { withTransaction } from '../../../shared/db/pool.ts';
import { lockQueue } from '../../../shared/db/queue-locks.ts';
import { countActiveReleases, getRelease, getReleasePlan, listQueuedReleases, listStaleReleases, transitionReleaseStatusIn, type Release } from '../../../shared/db/releases.ts';
import type { DispatchDeps } from '../deps.ts';
import { startJob } from '../start-job.ts';

/** Most waiting jobs one admission pass looks at: the oldest (beyond them, a job waits until fewer are ahead of it). */
const ADMISSION_SCAN = 500;

/** An admitted job whose Job is not running after this long had its start lost: start it again (default of settings.admittedStartGraceMs). */
const ORPHAN_AFTER_MS = 60_000;

/** Admits what fits of the build queue and starts the admitted builds' Jobs; returns their ids. */
export async function advanceBuilds(deps: DispatchDeps): Promise<string[]> {
  const max = deps.settings.maxRunningBuilds ?? 0;
  const admitted = await withTransaction(deps.pool, async (tx) => {
    await lockQueue(tx, 'builds');
    const queued = await listQueuedBuilds(tx, ADMISSION_SCAN);
    if (queued.length === 0) return [];
    let running = max > 0 ? await countActiveBuilds(tx) : 0;
    const groups = new Map<string, number>();
    const out: string[] = [];
    for (const q of queued) {
      if (max > 0 && running >= max) break;
      const limit = q.limits.limit;
      if (limit !== undefined) {
        const key = q.limits.perBranch ? `${q.pipelineId}\u0000${q.branch}` : q.pipelineId;
        if (!groups.has(key)) groups.set(key, await countActiveBuilds(tx, { pipelineId: q.pipelineId, ...(q.limits.perBranch ? { branch: q.branch } : {}) }));
        const active = groups.get(key)!;
        if (active >= limit) continue;
        groups.set(key, active + 1);
      }
      await transitionBuildStatusIn(tx, q.id, 'pending', { reason: '' });
      running++;
      out.push(q.id);
    }
    return out;
  });
  if (admitted.length) deps.log.info({ builds: admitted }, `admitted ${admitted.length} queued build(s)`);
  await startAll(deps, 'build', admitted);
  return admitted;
}

/** Admits what fits of the release queue (per target and action) and starts their Jobs; returns their ids. */
export async function advanceReleases(deps: DispatchDeps): Promise<string[]> {
  const admitted = await withTransaction(deps.pool, async (tx) => {
    await lockQueue(tx, 'releases');
    const queued = await listQueuedReleases(tx, ADMISSION_SCAN);
    const targets = new Map<string, number>();
    const out: string[] = [];
    for (const q of queued) {
      const key = `${q.pipelineId}\u0000${q.name}\u0000${q.action}`;
      if (!targets.has(key)) targets.set(key, await countActiveReleases(tx, q));
      const active = targets.get(key)!;
      if (active >= q.queueLimit) continue;
      targets.set(key, active + 1);
      await transitionReleaseStatusIn(tx, q.id, 'pending', { reason: '' });
      out.push(q.id);
    }
    return out;
  });
  if (admitted.length) deps.log.info({ releases: admitted }, `admitted ${admitted.length} queued release(s)`);
  await startAll(deps, 'release', admitted);
  return admitted;
}

/**
 * Starts the Jobs of the admitted, each even when another failed (they are admitted: none may
 * wait for the backstop because of a neighbour); then throws the first failure, so the event is
 * redelivered and the failed ones are tried again (restartOrphans, or the redelivered request).
 */
async function startAll(deps: DispatchDeps, kind: 'build' | 'release', ids: string[]): Promise<void> {
  const failures: unknown[] = [];
  for (const id of ids) await startStoredJob(deps, kind, id).catch((err: unknown) => failures.push(err));
  if (failures.length) throw failures[0];
}

/** Starts the Job of an admitted build or release from its stored plan. */
export async function startStoredJob(deps: DispatchDeps, kind: 'build' | 'release', id: string): Promise<void> {
  const row = kind === 'build' ? await getBuild(deps.pool, id) : await getRelease(deps.pool, id);
  const plan = kind === 'build' ? await getBuildPlan(deps.pool, id) : await getReleasePlan(deps.pool, id);
  const pipeline = row ? await getPipelineById(deps.pool, row.pipelineId) : null;
  if (!row || !plan || !pipeline) {
    deps.log.warn({ [`${kind}Id`]: id }, `admitted ${kind} ${id} cannot start: its ${!row ? 'row' : !plan ? 'plan' : 'pipeline'} is gone`);
    return;
  }
  const clone = kind === 'build' || plan.stages.some((s) => s.builtin === 'git-clone');
  // A queued build carries what its dispatcher knew (clone ref, secrets, credentials); a release starts as dispatchRelease would.
  const start = kind === 'build' ? await getBuildJobStart(deps.pool, id) : null;
  await startJob(deps, { kind, id, plan, clone, cloneUrl: pipeline.cloneUrl, ...(start ?? {}) });
  deps.log.info({ [`${kind}Id`]: id, pipeline: `${row.repoSource}/${row.repoOwner}/${row.repoName}` }, `${kind} ${id} started`);
}

/**
 * The backstop for a lost start: builds and releases admitted (pending) more than
 * settings.admittedStartGraceMs ago whose Job the runner does not know get their Job started again.
 * Returns `kind/id` of each.
 */
export async function restartOrphans(deps: DispatchDeps): Promise<string[]> {
  const now = new Date((deps.clock ?? systemClock).now());
  const before = new Date(now.getTime() - (deps.settings.admittedStartGraceMs ?? ORPHAN_AFTER_MS));
  const stale: Array<{ kind: 'build' | 'release'; row: Build | Release }> = [
    ...(await listStaleBuilds(deps.pool, ['pending'], before, 50)).map((row) => ({ kind: 'build' as const, row })),
    ...(await listStaleReleases(deps.pool, ['pending'], before, 50)).map((row) => ({ kind: 'release' as const, row })),
  ];
  const out: string[] = [];
  for (const { kind, row } of stale) {
    const state = await deps.runner.state({ kind, id: row.id, repoOwner: row.repoOwner, repoName: row.repoName });
    if (state !== 'missing') continue;
    deps.log.warn({ [`${kind}Id`]: row.id }, `${kind} ${row.id} was admitted but has no Job: starting it again`);
    await startStoredJob(deps, kind, row.id);
    out.push(`${kind}/${row.id}`);
  }
  return out;
}
