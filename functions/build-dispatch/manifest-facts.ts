/**
 * What the dispatcher stores about a manifest next to its pipeline: release targets with their
 * actions (templates applied) and the normalised triggers in the shape the triggers table keeps.
 */
import type { Manifest } from '../../shared/manifest/types.ts';
import { allTriggers } from '../../shared/manifest/triggers.ts';
import { releaseTargets as sharedReleaseTargets } from '../../shared/manifest/release-targets.ts';
import type { ReleaseTargetDef } from '../../shared/db/pipelines.ts';
import type { TriggerInput } from '../../shared/db/triggers.ts';

/** Release targets in manifest order, actions from the release or its template (shared with `estafette plan`). */
export const releaseTargets = (m: Manifest): ReleaseTargetDef[] => sharedReleaseTargets(m);

/** The manifest's triggers as rows for replaceTriggers. */
export function triggerRows(m: Manifest): TriggerInput[] {
  return allTriggers(m).map(({ scope, trigger }) => {
    const { kind, ...filter } = trigger.filter;
    const { kind: actionKind, ...action } = trigger.action;
    return {
      jobKind: scope.kind,
      jobName: scope.kind === 'release' ? scope.release : scope.kind === 'bot' ? scope.bot : '',
      kind,
      name: trigger.name,
      filter,
      action: { [actionKind]: action },
    };
  });
}
