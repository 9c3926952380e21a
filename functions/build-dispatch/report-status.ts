/**
 * Commit statuses for every build and release. Each state a job reaches — `pending` when
 * dispatch creates it, `running` on build.started/release.started, the final one on
 * build.finished/release.finished — becomes a durable `forge.status` event with an id derived
 * from (job, state), so a redelivered cause never reports twice and the build never waits for a
 * forge. Handling that event (`reportForgeStatus`) sends the status; a forge that fails makes
 * the handler throw, so the bus redelivers with its backoff and finally dead-letters the event
 * with the error, which names repository, revision, state and the forge's HTTP status — logged
 * once, there. A report overtaken by a later state of the same job is dropped, so a retried
 * `pending` never overwrites `success`. Jobs of `file://` or generic repositories, and hosts
 * without credentials, report nothing.
 */
import type { ForgeStatusData } from '../../shared/events/types.ts';
import { getBuild } from '../../shared/db/builds.ts';
import { getRelease } from '../../shared/db/releases.ts';
import { getPipeline } from '../../shared/db/pipelines.ts';
import { isApiForge } from '../../shared/scm/hosts.ts';
import { ScmError } from '../../shared/scm/provider.ts';
import { REPORTED_STATUSES, sendCommitStatus, type CommitStatus, type ReportedStatus } from '../../shared/scm/statuses/commit-status.ts';
import type { JobStatus } from '../../shared/status/status.ts';
import type { DispatchDeps } from './deps.ts';
import { derivedEventId } from '../../shared/triggers/fire-triggers.ts';

/** How far along a status is; a report of a lower rank than the job's current status is stale. */
const RANK: Record<JobStatus, number> = { 'awaiting-approval': 0, queued: 0, pending: 0, running: 1, canceling: 1, succeeded: 2, failed: 2, canceled: 2 };

/** The job a status is about, as the events that change its status describe it. */
export interface StatusSubject {
  kind: 'build' | 'release';
  id: string;
  repoSource: string;
  repoOwner: string;
  repoName: string;
  branch: string;
  revision: string;
}

/**
 * Publishes the `forge.status` event for `subject` reaching `status` (once per job and state:
 * the id is derived from both). Canceling is not a state forges know; nothing is published.
 */
export async function requestForgeStatus(deps: Pick<DispatchDeps, 'publish'>, subject: StatusSubject, status: JobStatus): Promise<void> {
  if (!(REPORTED_STATUSES as readonly string[]).includes(status)) return;
  const data: ForgeStatusData = { ...subject, status };
  await deps.publish('forge.status', data, { id: derivedEventId('forge.status', subject.kind, subject.id, status) });
}

/** A release's status subject: the revision and branch of the build it releases; undefined when unknown. */
export async function releaseSubject(deps: Pick<DispatchDeps, 'pool'>, releaseId: string): Promise<StatusSubject | undefined> {
  const release = await getRelease(deps.pool, releaseId);
  const build = release?.buildId ? await getBuild(deps.pool, release.buildId) : null;
  if (!release || !build) return undefined;
  return { kind: 'release', id: release.id, repoSource: release.repoSource, repoOwner: release.repoOwner, repoName: release.repoName, branch: build.repoBranch, revision: build.repoRevision };
}

const seg = encodeURIComponent;

/** The page of a build or release in the web UI under the public base URL. */
function jobUrl(baseUrl: string, s: Pick<StatusSubject, 'kind' | 'id' | 'repoSource' | 'repoOwner' | 'repoName'>): string {
  return `${baseUrl.replace(/\/+$/, '')}/pipelines/${seg(s.repoSource)}/${seg(s.repoOwner)}/${seg(s.repoName)}/${s.kind}s/${s.id}`;
}

const WORDS: Record<ReportedStatus, string> = { pending: 'is pending', running: 'is running', succeeded: 'succeeded', failed: 'failed', canceled: 'was canceled' };

/** Context and description of a job's status. */
function describeStatus(
  prefix: string,
  job: { kind: 'build'; repoName: string; number: number; version: string } | { kind: 'release'; name: string; action: string; version: string },
  status: ReportedStatus,
): Pick<CommitStatus, 'context' | 'description'> {
  if (job.kind === 'build') return { context: `${prefix}/${job.repoName}`, description: `Build #${job.number} (${job.version}) ${WORDS[status]}` };
  const target = job.action ? `${job.name}/${job.action}` : job.name;
  return { context: `${prefix}/release/${target}`, description: `Release of ${job.version} to ${target} ${WORDS[status]}` };
}

/** Sends the commit status a `forge.status` event asks for (see the module header). */
export async function reportForgeStatus(deps: DispatchDeps, e: ForgeStatusData): Promise<void> {
  const where = `${e.repoSource}/${e.repoOwner}/${e.repoName}@${e.revision.slice(0, 12)}`;
  const skip = (why: string) => void deps.log.debug({ [`${e.kind}Id`]: e.id, status: e.status }, `commit status ${e.status} of ${where} not reported: ${why}`);
  const job = e.kind === 'build' ? await getBuild(deps.pool, e.id) : await getRelease(deps.pool, e.id);
  if (!job) return skip(`no ${e.kind} ${e.id}`);
  const current: JobStatus = 'buildStatus' in job ? job.buildStatus : job.releaseStatus;
  if (RANK[e.status] < RANK[current]) return skip(`the ${e.kind} is already ${current}`);
  const pipeline = await getPipeline(deps.pool, e);
  if (!pipeline || !isApiForge(pipeline.forge)) return skip('the repository is not on a forge with an API');
  if (!e.revision) return skip('no revision');
  const repo = { repoSource: e.repoSource, repoOwner: e.repoOwner, repoName: e.repoName, cloneUrl: pipeline.cloneUrl, forge: pipeline.forge };
  const access = deps.forges.access(repo);
  if (!access) return skip('no forge API for the host');
  if (!access.authenticated) return skip(`no credentials for ${e.repoSource}`);
  const status = e.status as ReportedStatus;
  const described =
    'buildStatus' in job
      ? describeStatus(deps.settings.statusContext, { kind: 'build', repoName: job.repoName, number: job.buildNumber, version: job.buildVersion }, status)
      : describeStatus(deps.settings.statusContext, { kind: 'release', name: job.name, action: job.action, version: job.releaseVersion }, status);
  // Why the system ended it (superseded by a newer push, rejected, expired) is the most useful part.
  if (job.statusReason && (status === 'canceled' || status === 'failed')) described.description = `${described.description}: ${job.statusReason}`;
  try {
    await sendCommitStatus(access, repo, e.revision, { status, ...described, targetUrl: jobUrl(deps.settings.baseUrl, e) }, deps.forges.settings.timeoutMs);
  } catch (err) {
    const http = err instanceof ScmError ? (err.status ? `HTTP ${err.status}` : 'no answer') : 'error';
    // The bus redelivers with backoff; its dead letter carries this message, logged once.
    throw new Error(`commit status '${status}' of ${e.kind} ${e.id} for ${where} (branch ${e.branch}) not reported: ${http}: ${(err as Error).message}`);
  }
  deps.log.info({ [`${e.kind}Id`]: e.id, status, context: described.context }, `commit status ${status} reported for ${where}`);
}
