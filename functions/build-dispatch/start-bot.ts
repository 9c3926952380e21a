/**
 * Starts a bot run for a `bot.requested` (a trigger's `runs` action fired: a forge event such as
 * a pull request or an issue comment, a cron minute, another pipeline): as Estafette does, the
 * bot runs the stages of its `bots:` entry from the pipeline's manifest — that of the latest
 * build of the requested branch ('' = the branch of the latest build on master|main, else of the
 * latest build) — as a Job like builds and releases, with ESTAFETTE_BOT_NAME / ESTAFETTE_BOT_ID
 * and the firing event's ESTAFETTE_TRIGGER_* fields, `git-clone` only with `clone: true`. Bots are
 * not queued (Estafette has no bot concurrency). A request that cannot run (no build, invalid
 * manifest, no such bot) is recorded as a failed bot run with the reason in its log, so the
 * trigger that asked for it leaves a visible trace. Idempotent per event id.
 */
import type { BotRequestedData } from '../../shared/events/types.ts';
import { loadManifest, type LoadedManifest } from '../../shared/manifest/load.ts';
import { compilePlan } from '../../shared/manifest/compile.ts';
import { DEFAULT_BRANCH_PATTERN, matchPattern } from '../../shared/manifest/triggers.ts';
import { getPipeline, type Pipeline } from '../../shared/db/pipelines.ts';
import { getBuild, listBuilds, type Build } from '../../shared/db/builds.ts';
import { createBot, setBotPlan, type Bot } from '../../shared/db/bots.ts';
import { writeSystemStep } from '../../shared/logs/system-step.ts';
import { namedTriggerFields } from './named-triggers.ts';
import { isForkPullRequest } from './pull-requests.ts';
import { versionParts } from './start-release.ts';
import { startJob } from './start-job.ts';
import type { DispatchDeps } from './deps.ts';

/** The build whose manifest a bot of `pipeline` runs for `branch` ('' = default branch), or undefined. */
async function manifestBuild(deps: DispatchDeps, pipeline: Pipeline, branch: string): Promise<(Build & { manifest: string }) | undefined> {
  const recent = (await listBuilds(deps.pool, { pipelineId: pipeline.id, size: 50, ...(branch ? { branch } : {}) })).items.filter((b) => !isForkPullRequest(b.trigger));
  const pick = branch ? recent : [...recent.filter((b) => matchPattern(DEFAULT_BRANCH_PATTERN, b.repoBranch)), ...recent];
  // The newest build that has a manifest (one whose manifest could not be read has none).
  for (const b of pick.slice(0, 5)) {
    const full = await getBuild(deps.pool, b.id, { withManifest: true });
    if (full?.manifest) return full as Build & { manifest: string };
  }
  return undefined;
}

/** Dispatches one bot request; returns the bot run (undefined when the pipeline is unknown or archived). */
export async function dispatchBot(deps: DispatchDeps, eventId: string, req: BotRequestedData): Promise<Bot | undefined> {
  const name = `${req.repoSource}/${req.repoOwner}/${req.repoName}`;
  if (req.chainDepth > deps.settings.maxChainDepth) {
    deps.log.info(`bot ${req.name} of ${name} refused: trigger chain depth ${req.chainDepth} exceeds ${deps.settings.maxChainDepth} (a trigger loop?)`);
    return undefined;
  }
  const pipeline = await getPipeline(deps.pool, req);
  if (!pipeline) {
    deps.log.info(`bot ${req.name} of ${name} refused: unknown pipeline`);
    return undefined;
  }
  if (pipeline.archived) {
    deps.log.info(`bot ${req.name} of ${name} skipped: the pipeline is archived`);
    return undefined;
  }
  const build = await manifestBuild(deps, pipeline, req.branch);
  const loaded: LoadedManifest | undefined = build ? loadManifest(build.manifest) : undefined;
  const bot = loaded?.manifest?.bots.find((b) => b.name === req.name);
  const refusal = !build
    ? `the pipeline has no build${req.branch ? ` of branch ${req.branch}` : ''} whose manifest the bot could run`
    : !loaded?.manifest || loaded.errors.length > 0
      ? `the manifest of ${build.repoBranch} at ${build.repoRevision.slice(0, 7)} is invalid`
      : !bot
        ? `bot '${req.name}' is not in the manifest of ${build.repoBranch} at ${build.repoRevision.slice(0, 7)}`
        : undefined;
  const { bot: row, created } = await createBot(deps.pool, {
    pipelineId: pipeline.id,
    repoSource: req.repoSource,
    repoOwner: req.repoOwner,
    repoName: req.repoName,
    name: req.name,
    branch: build?.repoBranch ?? req.branch,
    revision: build?.repoRevision ?? '',
    ...(refusal ? { status: 'failed' as const, statusReason: refusal } : {}),
    triggeredBy: req.requestedBy ?? req.trigger.event,
    trigger: req.trigger,
    buildId: build?.id ?? null,
    chainDepth: req.chainDepth,
    eventId,
  });
  const what = `bot ${row.id} (${req.name}) of ${name}`;
  if (refusal) {
    if (created) await writeSystemStep(deps.pool, 'bot', row.id, 'validate-bot', [`Bot refused: ${refusal}`]);
    deps.log.info({ botId: row.id, pipeline: name }, `${what} refused: ${refusal}`);
    return row;
  }
  // A redelivery re-runs what may not have happened: the plan and the start of a pending run.
  if (!created && row.botStatus !== 'pending') return row;
  const plan = compilePlan(loaded!.manifest!, {
    kind: 'bot',
    name: req.name,
    repoSource: req.repoSource,
    repoOwner: req.repoOwner,
    repoName: req.repoName,
    branch: build!.repoBranch,
    revision: build!.repoRevision,
    version: versionParts(build!.buildVersion),
    buildId: build!.id,
    botId: row.id,
    counters: { current: build!.buildNumber, max: build!.buildNumber, maxCurrentBranch: build!.buildNumber },
    datetime: row.insertedAt,
    ciServerBaseUrl: deps.settings.baseUrl,
    trigger: req.trigger,
    triggeredBy: req.requestedBy ?? req.trigger.event,
    namedTriggers: await namedTriggerFields(deps, loaded!.manifest!, req),
  });
  await setBotPlan(deps.pool, row.id, plan);
  const location = { repoSource: req.repoSource, repoOwner: req.repoOwner, repoName: req.repoName, cloneUrl: pipeline.cloneUrl, ...(pipeline.forge ? { forge: pipeline.forge } : {}) };
  // The runner's start is idempotent, so a redelivered request starting a pending run again is harmless.
  await startJob(deps, { kind: 'bot', id: row.id, plan, clone: plan.stages.some((s) => s.builtin === 'git-clone'), cloneUrl: pipeline.cloneUrl, cloneAccess: location });
  deps.log.info({ botId: row.id, pipeline: name }, `${what} started on ${build!.repoBranch} at ${build!.repoRevision.slice(0, 7)} (${req.trigger.event}${req.trigger.fields.EVENT ? ` ${req.trigger.fields.EVENT}` : ''})`);
  return row;
}
