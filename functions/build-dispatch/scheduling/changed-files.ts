/**
 * The files a push changed, as build-dispatch learns them: from the forge's push payload when it
 * lists them all (webhook-ingest puts them in `changedFiles`), else from the forge or repository
 * itself when the provider can diff two revisions (local repositories: `git diff`), else
 * unknown — then the builder diffs before..revision in its clone for `changed(…)`, and the path
 * filter lets the push build (nothing is skipped on a guess). No before revision (a new branch,
 * a rebuild, a cron or trigger run): unknown, so everything runs.
 */
import type { PlanChanges } from '../../../shared/plan/types.ts';
import type { RepoLocation } from '../../../shared/scm/provider.ts';
import type { DispatchDeps } from '../deps.ts';

/** A before revision worth diffing against: a sha that is not all zeros (a new branch's). */
const usableBefore = (before: string | undefined): string | undefined => (before && /^[0-9a-f]{7,64}$/i.test(before) && !/^0+$/.test(before) ? before.toLowerCase() : undefined);

/** What the push of `revision` changed, as far as dispatch can tell; undefined without a before revision. */
export async function pushChanges(deps: Pick<DispatchDeps, 'scm' | 'log'>, repo: RepoLocation, push: { before?: string; changedFiles?: string[] }, revision: string): Promise<PlanChanges | undefined> {
  const before = usableBefore(push.before);
  if (push.changedFiles) return { ...(before ? { before } : {}), files: push.changedFiles };
  if (!before) return undefined;
  if (deps.scm.changedFiles) {
    try {
      const files = await deps.scm.changedFiles(repo, before, revision);
      if (files) return { before, files };
    } catch (err) {
      // A diff that cannot be made (before unknown to the repository, forge error): the builder tries in its clone.
      deps.log.info({ before, revision }, `changed files of ${before.slice(0, 8)}..${revision.slice(0, 8)} unknown here: ${(err as Error).message}`);
    }
  }
  return { before };
}
