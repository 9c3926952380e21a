/**
 * Reading `.estafette.yaml` at a revision through each forge's API: GitHub
 * (`GET /repos/{owner}/{repo}/contents/{path}?ref=`, raw media type), GitLab
 * (`GET /projects/{id}/repository/files/{path}/raw?ref=`), Gitea/Forgejo
 * (`GET /repos/{owner}/{repo}/raw/{path}?ref=`), Bitbucket Cloud
 * (`GET /repositories/{workspace}/{repo_slug}/src/{commit}/{path}`) and Bitbucket Server
 * (`GET /rest/api/1.0/projects/{key}/repos/{slug}/raw/{path}?at=`). A 404 for the file is
 * "no manifest" only when the repository itself answers; a repository that is not found (or not
 * readable with the credentials at hand) is an ScmError, so the build shows why.
 */
import { decodeManifestBytes } from '../manifest/text.ts';
import type { ForgeAccess } from './endpoints.ts';
import { forgeFetch, type ForgeRequest } from './forge-request.ts';
import type { ApiForge } from './hosts.ts';
import { MANIFEST_FILE, ScmError, type RepoLocation } from './provider.ts';

const enc = encodeURIComponent;
const GITHUB_HEADERS = { 'x-github-api-version': '2022-11-28' };

/** The request that reads the manifest at `revision` (without credentials). */
function manifestRequest(forge: ApiForge, apiUrl: string, r: RepoLocation, revision: string): ForgeRequest {
  const o = enc(r.repoOwner);
  const n = enc(r.repoName);
  switch (forge) {
    case 'github':
      return { method: 'GET', url: `${apiUrl}/repos/${o}/${n}/contents/${MANIFEST_FILE}?ref=${enc(revision)}`, headers: { accept: 'application/vnd.github.raw+json', ...GITHUB_HEADERS } };
    case 'gitlab':
      return { method: 'GET', url: `${apiUrl}/projects/${enc(`${r.repoOwner}/${r.repoName}`)}/repository/files/${enc(MANIFEST_FILE)}/raw?ref=${enc(revision)}`, headers: {} };
    case 'gitea':
      return { method: 'GET', url: `${apiUrl}/repos/${o}/${n}/raw/${MANIFEST_FILE}?ref=${enc(revision)}`, headers: {} };
    case 'bitbucket':
      return { method: 'GET', url: `${apiUrl}/repositories/${o}/${n}/src/${enc(revision)}/${MANIFEST_FILE}`, headers: {} };
    case 'bitbucket-server':
      return { method: 'GET', url: `${apiUrl}/rest/api/1.0/projects/${o}/repos/${n}/raw/${MANIFEST_FILE}?at=${enc(revision)}`, headers: {} };
  }
}

/** The request that reads the repository itself (to tell "no manifest" from "no repository"). */
function repositoryRequest(forge: ApiForge, apiUrl: string, r: RepoLocation): ForgeRequest {
  const o = enc(r.repoOwner);
  const n = enc(r.repoName);
  switch (forge) {
    case 'github':
      return { method: 'GET', url: `${apiUrl}/repos/${o}/${n}`, headers: { accept: 'application/vnd.github+json', ...GITHUB_HEADERS } };
    case 'gitlab':
      return { method: 'GET', url: `${apiUrl}/projects/${enc(`${r.repoOwner}/${r.repoName}`)}`, headers: {} };
    case 'gitea':
      return { method: 'GET', url: `${apiUrl}/repos/${o}/${n}`, headers: {} };
    case 'bitbucket':
      return { method: 'GET', url: `${apiUrl}/repositories/${o}/${n}`, headers: {} };
    case 'bitbucket-server':
      return { method: 'GET', url: `${apiUrl}/rest/api/1.0/projects/${o}/repos/${n}`, headers: {} };
  }
}

/** Reads the manifest of `r` at `revision` through `access`; undefined when the repository has none there. */
export async function readManifest(access: ForgeAccess, r: RepoLocation, revision: string, timeoutMs: number): Promise<string | undefined> {
  const auth = await access.headers();
  const req = manifestRequest(access.forge, access.apiUrl, r, revision);
  const res = await forgeFetch(access.forge, { ...req, headers: { ...req.headers, ...auth } }, timeoutMs, [404]);
  // Strictly UTF-8: a manifest that is not is refused with the reason, never silently altered.
  if (res.status !== 404) return decodeManifestBytes(new Uint8Array(await res.arrayBuffer()));
  await res.body?.cancel();
  const repo = repositoryRequest(access.forge, access.apiUrl, r);
  const check = await forgeFetch(access.forge, { ...repo, headers: { ...repo.headers, ...auth } }, timeoutMs, [404]);
  await check.body?.cancel();
  if (check.status === 404) {
    throw new ScmError(
      access.forge,
      404,
      `repository ${r.repoOwner}/${r.repoName} not found at ${access.apiUrl}${auth.authorization || auth['private-token'] ? ' with the configured credentials' : ' without credentials (a private repository needs a token or GitHub App for its host)'}`,
    );
  }
  return undefined;
}
