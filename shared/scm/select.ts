/** Picks the ScmProvider for a repository from its clone URL and forge. */
import type { ScmSettings } from '../config/config.ts';
import { bitbucketScm, giteaScm, githubScm, gitlabScm } from './http-providers.ts';
import { localScm } from './local.ts';
import { isLocalRepo, ScmError, type RepoLocation, type ScmProvider } from './provider.ts';

/** A provider that dispatches per repository. */
export function scmRouter(settings: ScmSettings): ScmProvider {
  const github = githubScm(settings.githubApiUrl, settings.githubToken);
  const gitlab = gitlabScm(settings.gitlabApiUrl, settings.gitlabToken);
  const bitbucket = bitbucketScm(settings.bitbucketApiUrl, settings.bitbucketToken);
  const gitea = settings.giteaApiUrl ? giteaScm(settings.giteaApiUrl, settings.giteaToken) : undefined;
  const pick = (r: RepoLocation): ScmProvider => {
    if (isLocalRepo(r.cloneUrl)) return localScm;
    switch (r.forge) {
      case 'gitlab':
        return gitlab;
      case 'bitbucket':
        return bitbucket;
      case 'gitea':
        if (!gitea) throw new ScmError('gitea', 500, 'GITEA_API_URL is not set');
        return gitea;
      case 'github':
        return github;
      default:
        if (r.repoSource === 'github.com') return github;
        if (r.repoSource === 'bitbucket.org') return bitbucket;
        if (r.repoSource.includes('gitlab')) return gitlab;
        throw new ScmError('scm', 500, `no provider for ${r.repoSource} (a generic webhook needs a file:// URL or a known forge)`);
    }
  };
  return {
    name: 'router',
    getManifest: (r, rev) => pick(r).getManifest(r, rev),
    changedFiles: async (r, before, rev) => {
      const p = pick(r);
      return p.changedFiles ? p.changedFiles(r, before, rev) : undefined;
    },
  };
}
