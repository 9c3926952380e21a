/**
 * The actions on one build: Cancel while it is active; Rebuild, and for a failed build
 * "Re-run failed stages", when it is over — both go to the new build once it exists.
 */
import { pipelinePath } from '../api/client.ts';
import type { Build } from '../api/types.ts';
import { useAction } from '../api/use-action.ts';
import { useStartBuild } from '../api/use-start-build.ts';
import { canOperate, useSession } from '../session.ts';
import { ErrorBox } from './feedback.tsx';

type Ref = { repoSource: string; repoOwner: string; repoName: string };
const ACTIVE = new Set(['pending', 'running', 'canceling']);

/** Rebuild / re-run / cancel buttons of one build, with their outcome in place. */
export function BuildActions({ pref, build, onChange, compact = false }: { pref: Ref; build: Build; onChange?: () => void; compact?: boolean }) {
  const me = useSession();
  const cancel = useAction();
  const rebuild = useStartBuild(pref);
  const rerun = useStartBuild(pref);
  if (!canOperate(me)) return null;
  const path = `${pipelinePath(pref)}/builds`;
  const active = ACTIVE.has(build.buildStatus);
  const busy = rebuild.state === 'requesting' || rebuild.state === 'waiting' || rerun.state === 'requesting' || rerun.state === 'waiting';
  const waitingText = (s: ReturnType<typeof useStartBuild>['state']) =>
    s === 'waiting' ? 'Requested; opening the new build…' : s === 'timeout' ? 'Requested, but the new build has not appeared yet; see the builds list.' : undefined;
  const status = waitingText(rerun.state) ?? waitingText(rebuild.state) ?? cancel.done;
  return (
    <span class="build-actions">
      {active ? (
        <button
          type="button"
          class="danger"
          disabled={cancel.busy || build.buildStatus === 'canceling'}
          onClick={() => cancel.run('DELETE', `${path}/${encodeURIComponent(build.id)}`, undefined, 'Cancel requested.', onChange)}
        >
          Cancel build
        </button>
      ) : (
        <>
          <button type="button" disabled={busy} onClick={() => rebuild.start(path, { buildVersion: build.buildVersion })} title={`Build version ${build.buildVersion} again, every stage`}>
            {rebuild.state === 'requesting' || rebuild.state === 'waiting' ? 'Rebuilding…' : 'Rebuild'}
          </button>
          {build.buildStatus === 'failed' && !compact ? (
            <button
              type="button"
              disabled={busy}
              onClick={() => rerun.start(`${path}/${encodeURIComponent(build.id)}/rerun-failed`, {})}
              title="Run again from the first failed stage; the stages before it keep their result (files they wrote are not recreated)"
            >
              {rerun.state === 'requesting' || rerun.state === 'waiting' ? 'Re-running…' : 'Re-run failed stages'}
            </button>
          ) : null}
        </>
      )}
      {cancel.error ? <ErrorBox error={cancel.error} context="Cancel failed" /> : null}
      {rebuild.error ? <ErrorBox error={rebuild.error} context="Rebuild failed" /> : null}
      {rerun.error ? <ErrorBox error={rerun.error} context="Re-run failed" /> : null}
      {status ? (
        <span role="status" class="muted">
          {' '}
          {status}
        </span>
      ) : null}
    </span>
  );
}
