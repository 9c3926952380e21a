/**
 * What each forge adapter provides: how to authenticate a delivery, and how to turn its payload
 * into normalised events — plus the rules every adapter shares: which delivery header dedupes,
 * which head commits skip CI, how many commits of a push travel on, and whether pull requests
 * from forks build. Adapters are pure (no I/O) so they are tested with recorded payloads.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { MAX_PUSH_COMMITS, type Commit, type OutgoingEvent } from '../../../shared/events/types.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';

/** One event to publish, without its id (the handler derives ids from the delivery). */
export type NormalisedEvent = OutgoingEvent;

export type ParseResult = { kind: 'events'; deliveryId: string; events: NormalisedEvent[] } | { kind: 'ignored'; deliveryId?: string; reason: string };

/** What a forge pull request from a fork does: build its head (default) or nothing. */
const FORK_PULL_REQUEST_POLICIES = ['build', 'ignore'] as const;
export type ForkPullRequestPolicy = (typeof FORK_PULL_REQUEST_POLICIES)[number];

/** Settings that shape normalisation. */
export interface ParseOptions {
  forkPullRequests: ForkPullRequestPolicy;
}

export interface ForgeAdapter {
  /** The endpoint's name (`/api/integrations/<endpoint>/events`) and the forge it serves. */
  endpoint: 'github' | 'bitbucket' | 'gitlab' | 'gitea' | 'generic';
  /** The environment variable holding this forge's secret (named in errors). */
  secretVariable: string;
  /** What a failed authentication is called in the 401 (signature or token). */
  credential: 'signature' | 'token';
  /** True when the request carries a valid signature/token for `secret`. Constant-time. */
  authenticate(req: HttpRequest, secret: string): boolean;
  /** Normalises an authenticated delivery; throws ValidationError on a payload it cannot use. */
  parse(req: HttpRequest, body: unknown, options: ParseOptions): ParseResult;
}

/** Constant-time comparison of two strings (false on different lengths, without early exit on content). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/** Hex HMAC-SHA256 of the raw body. */
export const hmacSha256 = (secret: string, body: Buffer): string => createHmac('sha256', secret).update(body).digest('hex');

/** `refs/heads/x` → { branch: 'x' }, `refs/tags/v1` → { tag: 'v1' }. */
export function splitRef(ref: string): { branch: string; tag?: string } | undefined {
  if (ref.startsWith('refs/heads/') && ref.length > 'refs/heads/'.length) return { branch: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/') && ref.length > 'refs/tags/'.length) return { branch: '', tag: ref.slice('refs/tags/'.length) };
  return undefined;
}

/** The host of a web URL, e.g. `https://github.com/o/r` → `github.com`. */
export function hostOf(webUrl: string | undefined, fallback: string): string {
  try {
    return webUrl ? new URL(webUrl).host || fallback : fallback;
  } catch {
    return fallback;
  }
}

export const ZERO_SHA = /^0+$/;

/** `owner/name` (GitLab: `group/sub/name`) → owner and name; undefined when it has no `/`. */
export function splitFullName(fullName: string): { repoOwner: string; repoName: string } | undefined {
  const cut = fullName.lastIndexOf('/');
  if (cut <= 0 || cut === fullName.length - 1) return undefined;
  return { repoOwner: fullName.slice(0, cut), repoName: fullName.slice(cut + 1) };
}

// The markers GitHub Actions, GitLab CI and Woodpecker honour, plus our own name.
const SKIP_MARKERS = ['[skip ci]', '[ci skip]', '[no ci]', '[skip estafette]'] as const;

/**
 * Why a push whose head commit has this message must not build, or undefined: a skip marker
 * anywhere in it (case-insensitive), or a `skip-checks: true` trailer line (GitHub's form).
 */
export function skipReason(message: string): string | undefined {
  const lower = message.toLowerCase();
  const marker = SKIP_MARKERS.find((m) => lower.includes(m));
  if (marker) return `the head commit message contains ${marker}`;
  if (/^skip-checks:\s*true\s*$/im.test(message)) return "the head commit has a 'skip-checks: true' trailer";
  return undefined;
}

/**
 * At most MAX_PUSH_COMMITS commits of a push — the newest — in the order given, and how many
 * there were (`total` when the forge tells a larger count than it sent, as GitLab does).
 */
export function boundedCommits(commits: Commit[], order: 'oldest-first' | 'newest-first', total = commits.length): { commits: Commit[]; commitCount: number } {
  const kept = order === 'oldest-first' ? commits.slice(-MAX_PUSH_COMMITS) : commits.slice(0, MAX_PUSH_COMMITS);
  return { commits: kept, commitCount: Math.max(total, commits.length) };
}

/** The reason a pull request is not built, or undefined when it builds (head in a fork, policy build). */
export function pullRequestIgnored(fork: boolean, number: number, options: ParseOptions): string | undefined {
  if (!fork) return `pull request #${number} comes from a branch of the repository itself: that branch's push builds it`;
  if (options.forkPullRequests === 'ignore') return `pull request #${number} comes from a fork and ESTAFETTE_FORK_PULL_REQUESTS is ignore`;
  return undefined;
}

/** A positive integer or undefined (installation ids, PR numbers). */
export const positiveInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined);
