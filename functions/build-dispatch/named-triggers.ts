/**
 * Resolves the manifest's named pipeline/release triggers to fields even when they did not fire,
 * so `${ESTAFETTE_TRIGGER_<NAME>_BUILD_VERSION}` works in every build (Estafette's behaviour):
 * a named pipeline trigger yields the latest succeeded build of the pipeline it watches on a
 * matching branch; a named release trigger the latest succeeded release of that target. The
 * trigger that fired this very run (same name) yields the fields of the event that fired it.
 */
import type { TriggerInfo } from '../../shared/events/types.ts';
import type { Manifest } from '../../shared/manifest/types.ts';
import { allTriggers, matchPattern } from '../../shared/manifest/triggers.ts';
import { getPipeline } from '../../shared/db/pipelines.ts';
import { listBuilds } from '../../shared/db/builds.ts';
import { listReleases } from '../../shared/db/releases.ts';
import type { DispatchDeps } from './deps.ts';
import { pipelineFields, releaseFields } from '../../shared/triggers/trigger-fields.ts';

type Repo = { repoSource: string; repoOwner: string; repoName: string };

/** `self` or `source/owner/name` → a repo ref (names of other forms cannot be looked up). */
function repoOf(name: string, self: Repo): Repo | undefined {
  if (name.toLowerCase() === 'self') return self;
  const parts = name.split('/');
  if (parts.length !== 3 || parts.some((p) => p === '' || /[|()^$*+?[\]\\]/.test(p))) return undefined;
  return { repoSource: parts[0], repoOwner: parts[1], repoName: parts[2] };
}

/**
 * Fields per named trigger (by name) for the compiler. `self` is the run's request: its repo,
 * and the trigger that started it (whose fields win for the trigger of that name).
 */
export async function namedTriggerFields(deps: Pick<DispatchDeps, 'pool'>, manifest: Manifest, self: Repo & { trigger?: TriggerInfo | null }): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  const fired = self.trigger?.name?.toLowerCase();
  for (const { trigger } of allTriggers(manifest)) {
    if (!trigger.name) continue;
    if (fired && trigger.name.toLowerCase() === fired) {
      out[trigger.name] = self.trigger!.fields;
      continue;
    }
    const f = trigger.filter;
    if (f.kind !== 'pipeline' && f.kind !== 'release') continue;
    const repo = repoOf(f.name, self);
    if (!repo) continue;
    const pipeline = await getPipeline(deps.pool, repo);
    if (!pipeline) continue;
    if (f.kind === 'pipeline') {
      const builds = await listBuilds(deps.pool, { pipelineId: pipeline.id, statuses: ['succeeded'], size: 50 });
      const b = builds.items.find((x) => matchPattern(f.branch, x.repoBranch));
      if (b) out[trigger.name] = pipelineFields(b, 'finished');
    } else {
      const releases = await listReleases(deps.pool, { pipelineId: pipeline.id, statuses: ['succeeded'], size: 50 });
      const r = releases.items.find((x) => matchPattern(f.target, x.name));
      if (r) out[trigger.name] = releaseFields(r, 'finished');
    }
  }
  return out;
}
