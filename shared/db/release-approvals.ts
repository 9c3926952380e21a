/**
 * Queries of the `release_approvals` table: one decision (approve or reject) per person and
 * release, with who decided, why they were allowed to, their comment and when.
 */
import type { Db } from './pool.ts';

/** The decisions a person can make. */
const APPROVAL_DECISIONS = ['approve', 'reject'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];
export const isApprovalDecision = (v: unknown): v is ApprovalDecision => APPROVAL_DECISIONS.includes(v as ApprovalDecision);

/** One recorded decision (the API's Approval object). */
export interface Approval {
  /** Sign-in email of the approver (or API client id). */
  approver: string;
  name: string;
  decision: ApprovalDecision;
  comment: string;
  /** What allowed them: `role operator`, `user`, `group platform`, `local`. */
  via: string;
  decidedAt: string;
}

interface ApprovalRow {
  approver: string;
  name: string;
  decision: ApprovalDecision;
  comment: string;
  via: string;
  decided_at: Date;
}

const toApproval = (r: ApprovalRow): Approval => ({ approver: r.approver, name: r.name, decision: r.decision, comment: r.comment, via: r.via, decidedAt: r.decided_at.toISOString() });

/**
 * Records a decision inside the caller's transaction. Returns it, or null when this person has
 * already decided on this release (their first decision stands).
 */
export async function recordApproval(tx: Db, releaseId: string, a: Omit<Approval, 'decidedAt'>): Promise<Approval | null> {
  const r = await tx.query<ApprovalRow>(
    `INSERT INTO release_approvals (release_id, approver, name, decision, comment, via) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (release_id, approver) DO NOTHING RETURNING approver, name, decision, comment, via, decided_at`,
    [releaseId, a.approver, a.name, a.decision, a.comment, a.via],
  );
  return r.rows[0] ? toApproval(r.rows[0]) : null;
}

/** The decisions on a release, oldest first. */
export async function listApprovals(db: Db, releaseId: string): Promise<Approval[]> {
  const r = await db.query<ApprovalRow>('SELECT approver, name, decision, comment, via, decided_at FROM release_approvals WHERE release_id = $1 ORDER BY decided_at, approver', [releaseId]);
  return r.rows.map(toApproval);
}
