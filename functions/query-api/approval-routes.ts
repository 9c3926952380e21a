/**
 * The approval routes of query-api (issue 22):
 * - `GET  …/releases/:id/approvals` — the decisions so far, what the release still waits for,
 *   and whether the caller may decide (`canDecide`, `whyNot`), for the UI.
 * - `POST …/releases/:id/approvals` `{"decision": "approve"|"reject", "comment"?}` — records the
 *   caller's decision. In one transaction that locks the release row: the decision is stored
 *   (one per person), a reject cancels the release ("rejected by …"), and the approval that makes
 *   it enough moves it from `awaiting-approval` to `queued`. Then build-dispatch is told: a
 *   `queue.advance` to admit it, or the release's `release.finished` when it was rejected.
 * Refusals: 403 (not an approver, or the requester alone), 409 (not awaiting approval, already
 * decided, expired), 400 (bad body).
 */
import type pg from 'pg';
import { eventArgs } from '../../shared/events/types.ts';
import type { Principal } from '../../shared/auth/access.ts';
import type { AuthSettings } from '../../shared/auth/settings.ts';
import { withTransaction } from '../../shared/db/pool.ts';
import { isApprovalDecision, listApprovals, recordApproval, type Approval } from '../../shared/db/release-approvals.ts';
import { getReleaseForUpdate, transitionReleaseStatusIn, type Release } from '../../shared/db/releases.ts';
import { HttpError, ValidationError } from '../../shared/errors/http-error.ts';
import { jobStatusEvent } from '../../shared/events/job-status-events.ts';
import { json, type HttpResponse } from '../../shared/http/types.ts';
import type { Publish } from '../../shared/runtime/runtime.ts';
import { derivedEventId } from '../../shared/triggers/fire-triggers.ts';
import { mayApprove, othersCouldApprove, tally, type ApprovalTally } from './approval-rules.ts';
import * as p from './params.ts';
import type { Route, RouteContext } from './router.ts';

type Ctx = RouteContext<Principal>;

/** What the approval routes need from query-api. */
export interface ApprovalRouteDeps {
  pool: pg.Pool;
  publish: Publish;
  auth: AuthSettings;
  /** The release named by the route (404 when it is not the pipeline's). */
  releaseOf(c: Ctx): Promise<Release>;
  now?: () => Date;
}

/** The approval routes under `PL` (`/api/pipelines/:source/:owner/:repo`). */
export function approvalRoutes(PL: string, deps: ApprovalRouteDeps): Route<Principal>[] {
  const identity = (c: Ctx) => ({ approver: c.principal.user?.email ?? 'local', name: c.principal.user?.name ?? 'local user' });
  const view = (release: Release, decisions: Approval[], c: Ctx) => {
    const rule = release.approval;
    const t: ApprovalTally | null = rule ? tally(rule, decisions, release.triggeredBy, othersCouldApprove(rule, deps.auth, release.triggeredBy)) : null;
    const may = rule ? mayApprove(rule, c.principal) : ({ ok: false, why: 'this release needs no approval' } as const);
    const mine = decisions.find((d) => d.approver.toLowerCase() === identity(c).approver.toLowerCase());
    const open = release.releaseStatus === 'awaiting-approval';
    const whyNot = !open ? `the release is ${release.releaseStatus}` : mine ? `you already decided (${mine.decision})` : !may.ok ? may.why : undefined;
    return {
      releaseId: release.id,
      releaseStatus: release.releaseStatus,
      statusReason: release.statusReason,
      requestedBy: release.triggeredBy,
      rule,
      deadline: release.approvalDeadline,
      items: decisions,
      ...(t ? { required: t.required, approvals: t.approvals, satisfied: t.satisfied, waitingFor: t.waitingFor, requesterExcluded: t.requesterExcluded } : {}),
      canDecide: !whyNot,
      ...(whyNot ? { whyNot } : {}),
    };
  };

  async function show(c: Ctx): Promise<HttpResponse> {
    const release = await deps.releaseOf(c);
    return json(200, view(release, await listApprovals(deps.pool, release.id), c));
  }

  async function decide(c: Ctx): Promise<HttpResponse> {
    const body = p.jsonBody(c.req);
    const decision = body.decision;
    if (!isApprovalDecision(decision)) throw new ValidationError("decision must be 'approve' or 'reject'");
    if (body.comment !== undefined && typeof body.comment !== 'string') throw new ValidationError('comment must be a string');
    const comment = (body.comment ?? '').trim();
    if (comment.length > 2000) throw new ValidationError('comment is longer than 2000 characters');
    const found = await deps.releaseOf(c);
    const who = identity(c);
    const now = deps.now?.() ?? new Date();

    const outcome = await withTransaction(deps.pool, async (tx) => {
      const release = await getReleaseForUpdate(tx, found.id);
      if (!release) throw new HttpError(404, `release ${found.id}`);
      const rule = release.approval;
      if (!rule) throw new HttpError(409, `release ${release.id} needs no approval`);
      if (release.releaseStatus !== 'awaiting-approval') {
        throw new HttpError(409, `release ${release.id} is ${release.releaseStatus}${release.statusReason ? ` (${release.statusReason})` : ''}: there is nothing to decide`);
      }
      if (release.approvalDeadline && Date.parse(release.approvalDeadline) <= now.getTime()) {
        throw new HttpError(409, `the approval of release ${release.id} expired at ${release.approvalDeadline}`);
      }
      const may = mayApprove(rule, c.principal);
      if (!may.ok) throw new HttpError(403, may.why);
      const others = othersCouldApprove(rule, deps.auth, release.triggeredBy);
      const isRequester = who.approver.toLowerCase() === release.triggeredBy.toLowerCase();
      if (decision === 'approve' && isRequester && rule.required === 1 && !rule.allowRequester && others) {
        throw new HttpError(403, 'you requested this release: someone else must approve it (the requester cannot be the only approver)');
      }
      const recorded = await recordApproval(tx, release.id, { ...who, decision, comment, via: may.via });
      if (!recorded) throw new HttpError(409, `you already decided on release ${release.id}`);
      const decisions = await listApprovals(tx, release.id);
      if (decision === 'reject') {
        const reason = `rejected by ${who.approver}${comment ? `: ${comment}` : ''}`;
        return { release: await transitionReleaseStatusIn(tx, release.id, 'canceled', { reason }), decisions, ended: true };
      }
      const t = tally(rule, decisions, release.triggeredBy, others);
      if (!t.satisfied) return { release, decisions, ended: false };
      return { release: await transitionReleaseStatusIn(tx, release.id, 'queued', { reason: '' }), decisions, ended: false };
    });

    const r = outcome.release;
    if (outcome.ended) {
      const e = jobStatusEvent(r, 'canceled');
      if (e) await deps.publish(...eventArgs(e), { id: e.id, subject: r.id });
    } else if (r.releaseStatus === 'queued') {
      await deps.publish('queue.advance', { reason: `release ${r.id} approved` }, { id: derivedEventId('approved', r.id), subject: r.id });
    }
    return json(200, view(r, outcome.decisions, c));
  }

  return [
    { method: 'GET', path: `${PL}/releases/:id/approvals`, role: 'viewer', handle: show },
    // Role viewer here: who may decide is the release target's rule (users, groups, roles), checked in decide().
    { method: 'POST', path: `${PL}/releases/:id/approvals`, role: 'viewer', mutating: true, handle: decide },
  ];
}
