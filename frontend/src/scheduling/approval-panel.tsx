/**
 * The approval flow of a release that needs one: what it waits for ("1 more approval"), who
 * decided what and when (approver, the role/user/group that allowed them, comment), and — for
 * someone who may decide — Approve and Reject with an optional comment. It reads and posts
 * `…/releases/:id/approvals`; the server decides who may approve, the buttons only follow it.
 */
import { useState } from 'preact/hooks';
import { pipelinePath } from '../api/client.ts';
import type { Release } from '../api/types.ts';
import { useAction } from '../api/use-action.ts';
import { useResource } from '../api/use-resource.ts';
import { ErrorBox } from '../components/feedback.tsx';
import { formatTime } from '../format.ts';
import type { ApprovalView } from './types.ts';

type Ref = { repoSource: string; repoOwner: string; repoName: string };
const POLL_MS = 4_000;

/** `<ApprovalPanel pref={pipeline} release={release} onChange={reload} />`; nothing for releases without approval. */
export function ApprovalPanel({ pref, release, onChange }: { pref: Ref; release: Release; onChange: () => void }) {
  const path = release.approval ? `${pipelinePath(pref)}/releases/${encodeURIComponent(release.id)}/approvals` : null;
  const waiting = release.releaseStatus === 'awaiting-approval';
  const view = useResource<ApprovalView>(path, waiting ? POLL_MS : undefined);
  const act = useAction();
  const [comment, setComment] = useState('');
  if (!path) return null;
  const v = view.data;
  const decide = (decision: 'approve' | 'reject') =>
    act.run('POST', path, { decision, ...(comment.trim() ? { comment: comment.trim() } : {}) }, decision === 'approve' ? 'Approved.' : 'Rejected.', () => {
      setComment('');
      view.reload();
      onChange();
    });
  const rule = release.approval!;
  const who = [rule.roles.length ? `role ${rule.roles.join(' or ')}` : '', rule.users.length ? rule.users.join(', ') : '', rule.groups.length ? `group ${rule.groups.join(' or ')}` : ''].filter(Boolean).join('; ');

  return (
    <section class="approval-panel" aria-label="Approval">
      <h2>Approval</h2>
      <p class="approval-summary">
        {v?.satisfied
          ? `Approved (${v.approvals} of ${v.required}).`
          : waiting
            ? `Waiting for ${v?.waitingFor || `${rule.required} approval${rule.required === 1 ? '' : 's'}`}.`
            : `Needed ${rule.required} approval${rule.required === 1 ? '' : 's'}.`}{' '}
        <span class="muted">
          Who may approve: {who}.{v?.requesterExcluded ? ` The requester (${v.requestedBy}) cannot be the only approver.` : ''}
          {release.approvalDeadline && waiting ? ` Expires ${formatTime(release.approvalDeadline)}.` : ''}
        </span>
      </p>
      {view.error && !v ? <ErrorBox error={view.error} retry={view.reload} context="Could not load the approvals" /> : null}
      {v && v.items.length ? (
        <ul class="approvals">
          {v.items.map((a) => (
            <li key={a.approver} class={`approval approval-${a.decision}`} data-approver={a.approver}>
              <span class="approval-decision">{a.decision === 'approve' ? '✓ approved' : '✗ rejected'}</span> by{' '}
              <strong class="approval-who" title={a.approver}>
                {a.name || a.approver}
              </strong>{' '}
              <span class="muted">
                ({a.via}) <time dateTime={a.decidedAt}>{formatTime(a.decidedAt)}</time>
              </span>
              {a.comment ? <q class="approval-comment">{a.comment}</q> : null}
            </li>
          ))}
        </ul>
      ) : v && waiting ? (
        <p class="muted">Nobody has decided yet.</p>
      ) : null}
      {waiting && v?.canDecide ? (
        <form class="approval-form" onSubmit={(e) => e.preventDefault()}>
          <label>
            Comment <span class="muted">(optional)</span>
            <input type="text" value={comment} maxLength={2000} onInput={(e) => setComment((e.target as HTMLInputElement).value)} />
          </label>
          <button type="button" disabled={act.busy} onClick={() => decide('approve')}>
            Approve
          </button>
          <button type="button" class="danger" disabled={act.busy} onClick={() => decide('reject')}>
            Reject
          </button>
        </form>
      ) : waiting && v?.whyNot ? (
        <p class="muted approval-why-not">{v.whyNot}</p>
      ) : null}
      {act.error ? <ErrorBox error={act.error} context="The decision was not recorded" /> : null}
      {act.done ? <span role="status">{act.done}</span> : null}
    </section>
  );
}
