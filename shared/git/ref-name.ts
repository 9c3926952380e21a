/**
 * Git ref names and revisions from outside (webhooks, API requests, events, the CLI, a builder's
 * config) are checked here before they reach a git command: `isRefName` applies
 * git-check-ref-format's rules (plus `--branch`'s "no leading dash", so a name can never be read
 * as an option), `isCommitId` accepts a full SHA-1 or SHA-256 object name and `isRevision` either
 * one of those, an abbreviated hex id, or a valid ref name. Every git invocation still puts `--`
 * before the refs it passes.
 */

/** Longest ref name accepted (git has no limit; forges cap branch names well below this). */
export const MAX_REF_LENGTH = 255;

// Control characters, space and the characters git forbids anywhere in a ref: ~ ^ : ? * [ \
const FORBIDDEN = /[\x00-\x20\x7f~^:?*[\\]/;

/**
 * True when `name` is a ref name git accepts (git-check-ref-format with --allow-onelevel, as
 * branch names are one level) and cannot be taken for an option: no `..`, no `@{`, not `@`, no
 * control characters, space or `~^:?*[\`, no empty, dot-leading or `.lock`-ending component, no
 * leading/trailing/double `/`, no trailing `.`, no leading `-`.
 */
export function isRefName(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_REF_LENGTH) return false;
  if (FORBIDDEN.test(name) || name.includes('..') || name.includes('@{') || name === '@') return false;
  if (name.startsWith('-') || name.endsWith('.')) return false;
  return name.split('/').every((c) => c.length > 0 && !c.startsWith('.') && !c.endsWith('.lock'));
}

/** True for a full object name: 40 (SHA-1) or 64 (SHA-256) hex digits. */
export const isCommitId = (v: unknown): v is string => typeof v === 'string' && /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/i.test(v);

/** True for a revision git may be given: a (possibly abbreviated, ≥ 4) hex object name or a valid ref name. */
export const isRevision = (v: unknown): v is string => typeof v === 'string' && (/^[0-9a-f]{4,64}$/i.test(v) || isRefName(v));

/** `name` shortened for an error message (never the whole of a hostile value). */
export const refForMessage = (name: string): string => JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);
