/**
 * Who may approve a release and when it has enough approvals — pure rules over a release
 * target's ApprovalRule (shared/manifest/scheduling.ts), the caller and the decisions so far.
 *
 * - May approve: a user named in `users`, a member of one of `groups`, or anyone whose role is
 *   at least one of `roles` (a viewer never reaches `operator`). With sign-in off (local mode)
 *   the one local user may.
 * - Enough: `required` distinct approvals — and, unless `allowRequester` or nobody else could
 *   approve (a single-user install), at least one of them from someone other than the requester:
 *   the requester cannot be the only approver. A single reject ends the release.
 */
import type { Principal } from '../../shared/auth/access.ts';
import { hasRole, isRole } from '../../shared/auth/roles.ts';
import type { AuthSettings } from '../../shared/auth/settings.ts';
import type { Approval } from '../../shared/db/release-approvals.ts';
import type { ApprovalRule } from '../../shared/manifest/scheduling.ts';

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Why `p` may decide on a release needing `rule` (`{ok: true, via}`), or why not. */
export function mayApprove(rule: ApprovalRule, p: Principal): { ok: true; via: string } | { ok: false; why: string } {
  if (p.via === 'local') return { ok: true, via: 'local' };
  if (!p.authenticated || !p.user) return { ok: false, why: 'sign in to approve' };
  if (rule.users.some((u) => same(u, p.user!.email))) return { ok: true, via: 'user' };
  const group = rule.groups.find((g) => p.identity?.groups?.includes(g));
  if (group) return { ok: true, via: `group ${group}` };
  const role = rule.roles.find((r) => isRole(r) && hasRole(p.role, r));
  if (role) return { ok: true, via: `role ${p.role}` };
  const who = [
    rule.roles.length ? `the ${rule.roles.join(' or ')} role` : '',
    rule.users.length ? `one of the users ${rule.users.join(', ')}` : '',
    rule.groups.length ? `a member of ${rule.groups.join(', ')}` : '',
  ].filter(Boolean);
  return { ok: false, why: `approving this release needs ${who.join(' or ')}; you are ${p.user.email} (${p.role})` };
}

/**
 * Whether someone other than `requester` could ever approve under `rule` with these sign-in
 * settings — false only when it is certain nobody could (sign-in off, or every possible approver
 * is known and is the requester). Groups and a sufficient default role mean "others may exist".
 */
export function othersCouldApprove(rule: ApprovalRule, auth: AuthSettings, requester: string): boolean {
  if (!auth.enabled) return false;
  const enough = (role: string) => rule.roles.some((r) => isRole(r) && isRole(role) && hasRole(role, r));
  if (rule.groups.length) return true;
  if (enough(auth.roles.defaultRole ?? 'viewer')) return true;
  if (Object.values(auth.roles.groups ?? {}).some(enough)) return true;
  const known = [
    ...rule.users,
    ...Object.entries(auth.roles.emails ?? {})
      .filter(([, r]) => enough(r))
      .map(([e]) => e),
    ...auth.clients.filter((c) => enough(c.role)).map((c) => c.id),
  ];
  return known.some((k) => !same(k, requester));
}

/** Where a release's approval stands. */
export interface ApprovalTally {
  required: number;
  /** Distinct approvers so far. */
  approvals: number;
  /** The reject that ended it, if any. */
  rejectedBy?: Approval;
  satisfied: boolean;
  /** What it still waits for, in words ('' when satisfied or rejected). */
  waitingFor: string;
  /** The requester's own approval alone cannot complete it. */
  requesterExcluded: boolean;
}

/** Tallies `decisions` under `rule` for a release requested by `requester`. */
export function tally(rule: ApprovalRule, decisions: readonly Approval[], requester: string, othersCould: boolean): ApprovalTally {
  const rejectedBy = decisions.find((d) => d.decision === 'reject');
  const approvers = decisions.filter((d) => d.decision === 'approve');
  const requesterExcluded = !rule.allowRequester && othersCould;
  const byOthers = approvers.filter((a) => !same(a.approver, requester)).length;
  const countOk = approvers.length >= rule.required;
  const othersOk = !requesterExcluded || byOthers > 0;
  const satisfied = !rejectedBy && countOk && othersOk;
  const missing = rule.required - approvers.length;
  const waitingFor =
    satisfied || rejectedBy
      ? ''
      : !countOk
        ? `${missing} more approval${missing === 1 ? '' : 's'}${!othersOk && missing === 1 ? ' from someone other than the requester' : ''}`
        : 'an approval from someone other than the requester';
  return { required: rule.required, approvals: approvers.length, ...(rejectedBy ? { rejectedBy } : {}), satisfied, waitingFor, requesterExcluded };
}
