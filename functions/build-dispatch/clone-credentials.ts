/**
 * What a build Job gets to clone a private repository: the forge credentials of its host as
 * git takes them over HTTPS — a GitHub App's installation token (valid about an hour) or the
 * host's token — put in the clone URL's user/password (the builder hands them to git through a
 * credential helper, never a command line) and listed in the config's `credentials`, whose
 * values the builder masks in every log line. No credentials, a non-HTTPS clone URL or a
 * failing token request leave the URL as it is: a public repository still clones.
 */
import { errorMessage } from '../../shared/log/logger.ts';
import type { BuilderConfig } from '../../shared/plan/builder-config.ts';
import type { RepoLocation } from '../../shared/scm/provider.ts';
import type { DispatchDeps } from './deps.ts';

/** The clone URL (with credentials when there are any) and the credentials to mask. */
export interface CloneAccess {
  cloneUrl: string;
  credentials?: NonNullable<BuilderConfig['credentials']>;
}

/** The clone access of `repo` cloned from `cloneUrl`. */
export async function cloneAccessFor(deps: Pick<DispatchDeps, 'forges' | 'log'>, repo: RepoLocation, cloneUrl: string): Promise<CloneAccess> {
  let url: URL;
  try {
    url = new URL(cloneUrl);
  } catch {
    return { cloneUrl };
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username) return { cloneUrl };
  const access = deps.forges.access(repo);
  if (!access?.authenticated) return { cloneUrl };
  let creds;
  try {
    creds = await access.cloneCredentials();
  } catch (err) {
    deps.log.warn({ pipeline: `${repo.repoSource}/${repo.repoOwner}/${repo.repoName}`, error: errorMessage(err) }, 'no clone credentials for the build: cloning anonymously');
    return { cloneUrl };
  }
  if (!creds) return { cloneUrl };
  url.username = encodeURIComponent(creds.username);
  url.password = encodeURIComponent(creds.password);
  return {
    cloneUrl: url.href,
    credentials: [{ name: `${access.host}-clone`, type: 'git-clone-token', values: { token: creds.password } }],
  };
}
