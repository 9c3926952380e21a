/**
 * Forge API providers reading `.estafette.yaml` at a revision over HTTPS:
 * GitHub (`/repos/{o}/{r}/contents/{path}?ref=`, raw media type; base URL configurable for
 * GitHub Enterprise), GitLab (`/projects/{id}/repository/files/{path}/raw?ref=`), Bitbucket Cloud
 * (`/repositories/{o}/{r}/src/{rev}/{path}`) and Gitea (`/api/v1/repos/{o}/{r}/raw/{path}?ref=`).
 * 404 means "no manifest"; other failures throw ScmError so the event is retried.
 */
import { MANIFEST_FILE, ScmError, type RepoLocation, type ScmProvider } from './provider.ts';

async function fetchManifest(provider: string, url: string, headers: Record<string, string>): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new ScmError(provider, 503, `request failed: ${(err as Error).message}`);
  }
  if (res.status === 404) return undefined;
  if (!res.ok) throw new ScmError(provider, res.status, `GET manifest answered ${res.status}`);
  return res.text();
}

const auth = (token: string | undefined, scheme = 'Bearer'): Record<string, string> => (token ? { authorization: `${scheme} ${token}` } : {});
const enc = encodeURIComponent;

export function githubScm(apiUrl: string, token?: string): ScmProvider {
  return {
    name: 'github',
    getManifest: (r: RepoLocation, rev: string) =>
      fetchManifest('github', `${apiUrl.replace(/\/$/, '')}/repos/${enc(r.repoOwner)}/${enc(r.repoName)}/contents/${MANIFEST_FILE}?ref=${enc(rev)}`, {
        accept: 'application/vnd.github.raw+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'estafette-knative',
        ...auth(token),
      }),
  };
}

export function gitlabScm(apiUrl: string, token?: string): ScmProvider {
  return {
    name: 'gitlab',
    getManifest: (r, rev) =>
      fetchManifest('gitlab', `${apiUrl.replace(/\/$/, '')}/projects/${enc(`${r.repoOwner}/${r.repoName}`)}/repository/files/${enc(MANIFEST_FILE)}/raw?ref=${enc(rev)}`, token ? { 'private-token': token } : {}),
  };
}

export function bitbucketScm(apiUrl: string, token?: string): ScmProvider {
  return {
    name: 'bitbucket',
    getManifest: (r, rev) => fetchManifest('bitbucket', `${apiUrl.replace(/\/$/, '')}/repositories/${enc(r.repoOwner)}/${enc(r.repoName)}/src/${enc(rev)}/${MANIFEST_FILE}`, auth(token)),
  };
}

export function giteaScm(apiUrl: string, token?: string): ScmProvider {
  return {
    name: 'gitea',
    getManifest: (r, rev) => fetchManifest('gitea', `${apiUrl.replace(/\/$/, '')}/api/v1/repos/${enc(r.repoOwner)}/${enc(r.repoName)}/raw/${MANIFEST_FILE}?ref=${enc(rev)}`, auth(token, 'token')),
  };
}
