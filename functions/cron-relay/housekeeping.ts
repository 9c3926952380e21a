/**
 * Housekeeping of dead jobs, run on every tick (and in local mode every few seconds): a build,
 * release or bot run still `pending`, `running` or `canceling` whose Job is gone, failed or ended without the
 * builder's final report — or that is past its deadline — is ended by the system: `failed` (a
 * canceling one `canceled`), with a `reconcile` step in its log saying why, every stage still
 * `running` or `pending` ended the same way (their timers stop), and the `build.finished` /
 * `release.finished` event published, so failure triggers fire (bot runs publish nothing). A pending job is left alone for
 * a grace period (its Job may still be being created); a running one while its builder reported
 * anything (logs, status, heartbeat: log-ingest records `heartbeat_at`) within `activeGraceMs`
 * (ESTAFETTE_HEARTBEAT_TIMEOUT_SECONDS, 30 s). With the kubernetes runner all Job states
 * come from one list call. Each job ended is one warning line with its ids and cause, and counted
 * (estafette_jobs_reconciled_total).
 */
import { getBuildPlan, listStaleBuilds, transitionBuildStatus, type Build } from '../../shared/db/builds.ts';
import { getReleasePlan, listStaleReleases, transitionReleaseStatus, type Release } from '../../shared/db/releases.ts';
import { getBotPlan, listStaleBots, transitionBotStatus, type Bot } from '../../shared/db/bots.ts';
import { finishOpenStageRuns, listStageRuns, upsertStageRuns, type JobKind } from '../../shared/db/stages.ts';
import type { StageReport } from '../../shared/logs/protocol.ts';
import type { Plan, PlanStage } from '../../shared/plan/types.ts';
import { jobStatusEvent } from '../../shared/events/job-status-events.ts';
import { eventArgs } from '../../shared/events/types.ts';
import { markEventProcessed, pruneProcessedEvents } from '../../shared/db/events.ts';
import { IllegalTransitionError } from '../../shared/db/errors.ts';
import { withTransaction } from '../../shared/db/pool.ts';
import { writeSystemStep } from '../../shared/logs/system-step.ts';
import { DEFAULT_JOB_SPEC_OPTIONS } from '../../shared/k8s/job-spec.ts';
import type { JobRef, JobState } from '../../shared/jobs/runner.ts';
import type { JobStatus } from '../../shared/status/status.ts';
import { jobReconciled } from '../../shared/metrics/metrics.ts';
import type { CronRelayDeps, HousekeepingRunner, HousekeepingSettings } from './deps.ts';
import { systemClock } from '../../shared/time/clock.ts';

/** Defaults: 2 min grace for pending, 30 s without a heartbeat for running, deadline = the Job's activeDeadlineSeconds + 5 min. */
const HOUSEKEEPING_DEFAULTS: HousekeepingSettings = {
  pendingGraceMs: 2 * 60_000,
  activeGraceMs: 30_000,
  deadlineMs: (DEFAULT_JOB_SPEC_OPTIONS.activeDeadlineSeconds + 5 * 60) * 1000,
  batch: 200,
};

/** One job housekeeping ended. */
export interface Reconciled {
  kind: 'build' | 'release' | 'bot';
  id: string;
  from: JobStatus;
  to: 'failed' | 'canceled';
  reason: string;
}

interface Candidate {
  ref: JobRef & { kind: 'build' | 'release' | 'bot' };
  status: JobStatus;
  startedAt: string | null;
  insertedAt: string;
}

const minutes = (ms: number): string => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`);

/** Why a job is dead, or undefined while it may still be alive. */
function deathReason(c: Candidate, state: JobState, now: Date, s: HousekeepingSettings): string | undefined {
  if (state === 'missing') return c.status === 'pending' ? 'its Job was never created or has been deleted' : 'its Job is gone';
  if (state === 'failed') return 'its Job failed (pod evicted, killed, or past activeDeadlineSeconds)';
  if (state === 'succeeded') return 'its Job ended';
  const since = Date.parse(c.startedAt ?? c.insertedAt);
  if (now.getTime() - since > s.deadlineMs) return `it passed its deadline of ${minutes(s.deadlineMs)}`;
  return undefined;
}

async function candidates(deps: CronRelayDeps, now: Date, s: HousekeepingSettings): Promise<Candidate[]> {
  const pendingBefore = new Date(now.getTime() - s.pendingGraceMs);
  const activeBefore = new Date(now.getTime() - s.activeGraceMs);
  const builds = [...(await listStaleBuilds(deps.pool, ['pending'], pendingBefore, s.batch)), ...(await listStaleBuilds(deps.pool, ['running', 'canceling'], activeBefore, s.batch))];
  const releases = [...(await listStaleReleases(deps.pool, ['pending'], pendingBefore, s.batch)), ...(await listStaleReleases(deps.pool, ['running', 'canceling'], activeBefore, s.batch))];
  const bots = [...(await listStaleBots(deps.pool, ['pending'], pendingBefore, s.batch)), ...(await listStaleBots(deps.pool, ['running', 'canceling'], activeBefore, s.batch))];
  return [
    ...builds.map((b) => ({ ref: { kind: 'build' as const, id: b.id, repoOwner: b.repoOwner, repoName: b.repoName }, status: b.buildStatus, startedAt: b.startedAt, insertedAt: b.insertedAt })),
    ...releases.map((r) => ({ ref: { kind: 'release' as const, id: r.id, repoOwner: r.repoOwner, repoName: r.repoName }, status: r.releaseStatus, startedAt: r.startedAt, insertedAt: r.insertedAt })),
    ...bots.map((b) => ({ ref: { kind: 'bot' as const, id: b.id, repoOwner: b.repoOwner, repoName: b.repoName }, status: b.botStatus, startedAt: b.startedAt, insertedAt: b.insertedAt })),
  ];
}

/** Every stage path of `plan` that this job runs itself (not one a re-run reused), with its parent and kind. */
function plannedPaths(plan: Plan): Array<Pick<StageReport, 'stage' | 'parent' | 'kind'>> {
  const out: Array<Pick<StageReport, 'stage' | 'parent' | 'kind'>> = [];
  const visit = (s: PlanStage, parent: string | undefined) => {
    const path = parent ? `${parent}/${s.name}` : s.name;
    out.push({ stage: path, ...(parent ? { parent } : {}), kind: s.builtin ? 'builtin' : s.parallelStages.length ? 'parallel' : 'stage' });
    for (const svc of s.services) out.push({ stage: `${path}/${svc.name}`, parent: path, kind: 'service' });
    for (const c of s.parallelStages) visit(c, path);
  };
  for (const s of plan.stages) if (!s.reusedFrom) visit(s, undefined);
  return out;
}

/**
 * Ends every stage of a job its builder will never report: the running and pending ones get the
 * job's final status, the planned ones it never reached are `skipped` (`canceled` for a canceled
 * job), as the builder itself would have reported them.
 */
async function endStages(deps: CronRelayDeps, kind: JobKind, id: string, to: 'failed' | 'canceled', why: string): Promise<void> {
  await finishOpenStageRuns(deps.pool, kind, id, to, `ended by housekeeping: the ${kind} ${why}`);
  const plan = kind === 'build' ? await getBuildPlan(deps.pool, id) : kind === 'release' ? await getReleasePlan(deps.pool, id) : await getBotPlan(deps.pool, id);
  if (!plan) return;
  const reported = new Set((await listStageRuns(deps.pool, kind, id)).map((r) => r.stage));
  const status = to === 'canceled' ? 'canceled' : 'skipped';
  const never = plannedPaths(plan).filter((p) => !reported.has(p.stage));
  if (never.length > 0)
    await upsertStageRuns(
      deps.pool,
      kind,
      id,
      never.map((p) => ({ ...p, run: 1, status })),
    );
}

/** The state lookup for this pass: one list call when the runner can, else one call per job. */
async function stateLookup(runner: HousekeepingRunner): Promise<(ref: JobRef) => Promise<JobState>> {
  const all = await runner.states?.();
  if (all) return async (ref) => all.get(`${ref.kind}/${ref.id}`) ?? 'missing';
  return (ref) => runner.state(ref);
}

/**
 * Ends the dead jobs among the stale ones; returns what it ended. Safe to run concurrently: the
 * status change is conditional, and the reconcile step is written by whoever marks it first.
 */
export async function reconcileJobs(deps: CronRelayDeps, now: Date = new Date((deps.clock ?? systemClock).now())): Promise<Reconciled[]> {
  const runner = deps.runner;
  if (!runner) return [];
  const s = { ...HOUSEKEEPING_DEFAULTS, ...deps.housekeeping };
  const list = await candidates(deps, now, s);
  if (list.length === 0) return [];
  const stateOf = await stateLookup(runner);
  const out: Reconciled[] = [];
  for (const c of list) {
    const state = await stateOf(c.ref);
    const why = deathReason(c, state, now, s);
    if (!why) continue;
    // A job past its deadline may still run: stop it before saying it ended.
    if (state === 'running') await runner.cancel(c.ref);
    const to = c.status === 'canceling' ? 'canceled' : 'failed';
    let row: Build | Release | Bot;
    try {
      row =
        c.ref.kind === 'build'
          ? await transitionBuildStatus(deps.pool, c.ref.id, to)
          : c.ref.kind === 'release'
            ? await transitionReleaseStatus(deps.pool, c.ref.id, to)
            : await transitionBotStatus(deps.pool, c.ref.id, to);
    } catch (err) {
      if (err instanceof IllegalTransitionError) continue; // its final report won the race
      throw err;
    }
    const reason = `${why} without a final report from the builder`;
    const line = `The ${c.ref.kind} was ${c.status} but ${reason}; marked ${to} by housekeeping.`;
    await withTransaction(deps.pool, async (tx) => {
      if (await markEventProcessed(tx, 'cron-relay', `reconcile/${c.ref.kind}/${c.ref.id}`)) {
        await writeSystemStep(tx, c.ref.kind, c.ref.id, 'reconcile', [line], to === 'canceled' ? 'canceled' : 'failed');
      }
    });
    // The builder will not report its stages any more: end them, so none stays `running` forever.
    await endStages(deps, c.ref.kind, c.ref.id, to, why);
    // As the builder's final report would have: failure triggers and waiting releases react to it.
    const event = 'botStatus' in row ? undefined : jobStatusEvent(row, to);
    if (event) await deps.publish(...eventArgs(event), { id: event.id });
    deps.log.warn(
      { [`${c.ref.kind}Id`]: c.ref.id, pipeline: `${c.ref.repoOwner}/${c.ref.repoName}`, from: c.status, status: to, cause: reason },
      `${c.ref.kind} ${c.ref.id} of ${c.ref.repoOwner}/${c.ref.repoName}: ${line}`,
    );
    jobReconciled(c.ref.kind, to);
    out.push({ kind: c.ref.kind, id: c.ref.id, from: c.status, to, reason });
  }
  return out;
}

/**
 * Consumers' processed-event marks (shared/db/events.ts) are kept this long: far beyond any
 * redelivery (the bus gives up after its attempts within minutes; JetStream's duplicate window is
 * two minutes), so forgetting older ones never lets an event take effect twice.
 */
const KEEP_PROCESSED_EVENTS_MS = 7 * 24 * 60 * 60_000;

/** Forgets the processed-event marks older than KEEP_PROCESSED_EVENTS_MS before `now`; returns how many. */
export const forgetProcessedEvents = (deps: Pick<CronRelayDeps, 'pool'>, now: Date): Promise<number> => pruneProcessedEvents(deps.pool, new Date(now.getTime() - KEEP_PROCESSED_EVENTS_MS));
