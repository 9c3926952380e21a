/**
 * The `*.started` / `*.finished` event of a build or release reaching a status, built in one
 * place for everyone who moves a job there: log-ingest (the builder's reports) and
 * build-dispatch (a job it ends itself — superseded, rejected, expired, canceled before its Job
 * ran). The event id is derived from (job, status), so whoever publishes first wins and a
 * republished duplicate is dropped by the bus.
 */
import { createHash } from 'node:crypto';
import type { Build } from '../db/builds.ts';
import type { Release } from '../db/releases.ts';
import { isFinalJobStatus, type JobStatus } from '../status/status.ts';
import type { OutgoingEvent } from './types.ts';

/** Deterministic event id for a job reaching a status. */
export function jobStatusEventId(job: { kind: string; id: string }, status: JobStatus): string {
  const h = createHash('sha256').update(`${job.kind}\0${job.id}\0${status}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** An event to publish: name, payload and id. */
export type JobStatusEvent = OutgoingEvent & { id: string };

/** The event of `row` reaching `status` (running → started, final → finished), or undefined for other statuses. */
export function jobStatusEvent(row: Build | Release, status: JobStatus): JobStatusEvent | undefined {
  const final = isFinalJobStatus(status);
  if (status !== 'running' && !final) return undefined;
  const repo = { repoSource: row.repoSource, repoOwner: row.repoOwner, repoName: row.repoName };
  if ('buildVersion' in row) {
    const id = jobStatusEventId({ kind: 'build', id: row.id }, status);
    const data = { ...repo, buildId: row.id, branch: row.repoBranch, revision: row.repoRevision, version: row.buildVersion, chainDepth: row.chainDepth };
    return final ? { name: 'build.finished', data: { ...data, status }, id } : { name: 'build.started', data, id };
  }
  const id = jobStatusEventId({ kind: 'release', id: row.id }, status);
  const data = { ...repo, releaseId: row.id, name: row.name, ...(row.action ? { action: row.action } : {}), version: row.releaseVersion, chainDepth: row.chainDepth };
  return final ? { name: 'release.finished', data: { ...data, status }, id } : { name: 'release.started', data, id };
}
