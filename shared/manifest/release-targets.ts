/**
 * The release targets a build of a manifest offers, as the dispatcher stores them beside the
 * pipeline and `estafette plan` shows them: every release in manifest order with its actions,
 * a release template's actions filling in for a release that names none.
 */
import type { Manifest } from './types.ts';

/** A release target and the names of its actions (empty: the target has no actions). */
export interface ReleaseTarget {
  name: string;
  actions: Array<{ name: string }>;
}

/** Release targets in manifest order, actions from the release or its template. */
export function releaseTargets(m: Manifest): ReleaseTarget[] {
  const templates = new Map(m.releaseTemplates.map((t) => [t.name, t]));
  return m.releases.map((r) => ({
    name: r.name,
    actions: (r.actions ?? (r.template ? templates.get(r.template)?.actions : undefined) ?? []).map((a) => ({ name: a.name })),
  }));
}
