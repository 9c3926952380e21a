/**
 * The scheduling shapes of the API (docs/API.md "Scheduling"): a release target's approval rule
 * and the approvals view of one release (`GET …/releases/:id/approvals`).
 */

/** Who must approve a release to a target (the manifest's `approval`, defaults applied). */
export interface ApprovalRule {
  required: number;
  roles: string[];
  users: string[];
  groups: string[];
  expiresAfterSeconds?: number;
  allowRequester: boolean;
}

/** One person's decision. */
export interface Approval {
  approver: string;
  name: string;
  decision: 'approve' | 'reject';
  comment: string;
  /** What allowed them: `role operator`, `user`, `group platform`, `local`. */
  via: string;
  decidedAt: string;
}

/** Where a release's approval stands, and whether the caller may decide. */
export interface ApprovalView {
  releaseId: string;
  releaseStatus: string;
  statusReason: string;
  requestedBy: string;
  rule: ApprovalRule | null;
  deadline: string | null;
  items: Approval[];
  required?: number;
  approvals?: number;
  satisfied?: boolean;
  waitingFor?: string;
  requesterExcluded?: boolean;
  canDecide: boolean;
  whyNot?: string;
}
