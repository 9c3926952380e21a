/**
 * Commit statuses on each forge's API, the same report in five dialects: GitHub
 * (`POST /repos/{owner}/{repo}/statuses/{sha}`), GitLab (`POST /projects/:id/statuses/:sha`),
 * Gitea/Forgejo (`POST /repos/{owner}/{repo}/statuses/{sha}`), Bitbucket Cloud
 * (`POST /repositories/{workspace}/{repo_slug}/commit/{commit}/statuses/build`) and Bitbucket
 * Server (`POST /rest/build-status/1.0/commits/{commitId}`). A job status maps to the nearest
 * state each forge has (GitHub and Gitea have no "running": it stays `pending`; a canceled job
 * is GitHub's `error`, GitLab's `canceled`, Bitbucket's `STOPPED`). Requests are pure data built
 * here and sent by `sendCommitStatus`, so tests check them against the forges' contracts.
 */
import type { JobStatus } from '../../status/status.ts';
import type { ForgeAccess } from '../endpoints.ts';
import { forgeFetch, type ForgeRequest } from '../forge-request.ts';
import type { ApiForge } from '../hosts.ts';
import { ScmError, type RepoLocation } from '../provider.ts';

/** The job statuses that are reported (canceling is still running as far as a forge cares). */
export const REPORTED_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'canceled'] as const satisfies readonly JobStatus[];
export type ReportedStatus = (typeof REPORTED_STATUSES)[number];

/** One status report about one commit. */
export interface CommitStatus {
  status: ReportedStatus;
  /** Names the reporter on the commit: `estafette/<repo>` or `estafette/release/<target>[/<action>]`. */
  context: string;
  description: string;
  /** The build's or release's page. */
  targetUrl: string;
}

/** Each forge's state for each reported job status. */
const FORGE_STATES: Record<ApiForge, Record<ReportedStatus, string>> = {
  github: { pending: 'pending', running: 'pending', succeeded: 'success', failed: 'failure', canceled: 'error' },
  gitea: { pending: 'pending', running: 'pending', succeeded: 'success', failed: 'failure', canceled: 'error' },
  gitlab: { pending: 'pending', running: 'running', succeeded: 'success', failed: 'failed', canceled: 'canceled' },
  bitbucket: { pending: 'INPROGRESS', running: 'INPROGRESS', succeeded: 'SUCCESSFUL', failed: 'FAILED', canceled: 'STOPPED' },
  'bitbucket-server': { pending: 'INPROGRESS', running: 'INPROGRESS', succeeded: 'SUCCESSFUL', failed: 'FAILED', canceled: 'FAILED' },
};

const enc = encodeURIComponent;

/** The request that sets `s` on commit `sha` of `r` (without credentials). */
export function commitStatusRequest(forge: ApiForge, apiUrl: string, r: RepoLocation, sha: string, s: CommitStatus): ForgeRequest {
  const state = FORGE_STATES[forge][s.status];
  const o = enc(r.repoOwner);
  const n = enc(r.repoName);
  const description = s.description.slice(0, 140);
  switch (forge) {
    case 'github':
      return {
        method: 'POST',
        url: `${apiUrl}/repos/${o}/${n}/statuses/${enc(sha)}`,
        headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
        body: { state, target_url: s.targetUrl, description, context: s.context },
      };
    case 'gitea':
      return { method: 'POST', url: `${apiUrl}/repos/${o}/${n}/statuses/${enc(sha)}`, headers: {}, body: { state, target_url: s.targetUrl, description, context: s.context } };
    case 'gitlab':
      return {
        method: 'POST',
        url: `${apiUrl}/projects/${enc(`${r.repoOwner}/${r.repoName}`)}/statuses/${enc(sha)}`,
        headers: {},
        body: { state, name: s.context, target_url: s.targetUrl, description },
      };
    case 'bitbucket':
      return {
        method: 'POST',
        url: `${apiUrl}/repositories/${o}/${n}/commit/${enc(sha)}/statuses/build`,
        headers: {},
        body: { key: s.context.slice(0, 255), state, name: s.context, url: s.targetUrl, description },
      };
    case 'bitbucket-server':
      return {
        method: 'POST',
        url: `${apiUrl}/rest/build-status/1.0/commits/${enc(sha)}`,
        headers: {},
        body: { key: s.context.slice(0, 255), state, name: s.context, url: s.targetUrl, description },
      };
  }
}

/**
 * Sends one commit status. GitLab refuses to set a state a commit already has ("Cannot
 * transition status"), which for a resent report means it is already there. Throws ScmError.
 */
export async function sendCommitStatus(access: ForgeAccess, r: RepoLocation, sha: string, s: CommitStatus, timeoutMs: number): Promise<void> {
  const req = commitStatusRequest(access.forge, access.apiUrl, r, sha, s);
  try {
    const res = await forgeFetch(access.forge, { ...req, headers: { ...req.headers, ...(await access.headers()) } }, timeoutMs);
    await res.body?.cancel();
  } catch (err) {
    if (access.forge === 'gitlab' && err instanceof ScmError && err.status === 400 && /cannot transition status/i.test(err.message)) return;
    throw err;
  }
}
