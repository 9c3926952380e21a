/**
 * The ScmProvider of build-dispatch: local repositories through `git show`, forge repositories
 * through their API (endpoints.ts picks URL and credentials per host). A repository of no known
 * forge (a generic webhook of an unknown host) cannot be read.
 */
import type { ForgeEndpoints } from './endpoints.ts';
import { readManifest } from './http-providers.ts';
import { localScm } from './local.ts';
import { isLocalRepo, ScmError, type ScmProvider } from './provider.ts';

/** A provider that dispatches per repository. */
export function scmRouter(endpoints: ForgeEndpoints): ScmProvider {
  return {
    name: 'router',
    getManifest: (r, rev) => {
      if (isLocalRepo(r.cloneUrl)) return localScm.getManifest(r, rev);
      const access = endpoints.access(r);
      if (!access) {
        throw new ScmError('scm', 0, `no forge API known for ${r.repoSource} (a generic webhook needs a file:// URL, a known forge host, or a "forge" for the host in ESTAFETTE_FORGE_CREDENTIALS)`);
      }
      return readManifest(access, r, rev, endpoints.settings.timeoutMs);
    },
    // Only local repositories can be diffed here; for the others the builder diffs in its clone.
    changedFiles: async (r, before, rev) => (isLocalRepo(r.cloneUrl) ? localScm.changedFiles!(r, before, rev) : undefined),
  };
}
