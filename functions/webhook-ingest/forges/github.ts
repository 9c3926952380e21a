/**
 * GitHub (and GitHub Enterprise) webhooks: `X-Hub-Signature-256: sha256=<hex hmac>`, delivery id
 * in `X-GitHub-Delivery`, events `push` (branches and tags), `ping`, `repository` (renamed →
 * pipeline.renamed; archived/unarchived/deleted → pipeline.archived). Also used for Gitea, whose
 * payloads are GitHub-shaped (see gitea.ts).
 */
import type { Commit } from '../../../shared/events/types.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { hmacSha256, hostOf, safeEqual, splitRef, ZERO_SHA, type ForgeAdapter, type NormalisedEvent, type ParseResult } from './forge.ts';
import { arr, at, optStr, str } from './payload.ts';
import { listedPushChanges } from './push-changes.ts';

// GitHub lists at most this many commits in a push payload; a full list may be cut short.
const MAX_LISTED_COMMITS = 2048;

/** Commits of a GitHub-shaped push payload. */
export function githubCommits(body: unknown): Commit[] {
  return arr(body, 'commits').map((c) => ({
    id: optStr(c, 'id'),
    message: optStr(c, 'message'),
    author: { name: optStr(c, 'author.name'), email: optStr(c, 'author.email'), username: optStr(c, 'author.username') || undefined },
  }));
}

/** True when the payload lists every pushed commit (Gitea says how many there were; GitHub caps the list). */
function commitListComplete(body: unknown): boolean {
  const listed = arr(body, 'commits').length;
  const total = at(body, 'total_commits');
  return listed < MAX_LISTED_COMMITS && (typeof total !== 'number' || total === listed);
}

/** A GitHub-shaped push payload as a git.push event, or why it is ignored. */
export function githubShapedPush(forge: 'github' | 'gitea', body: unknown, deliveryId: string, defaultHost: string): ParseResult {
  const ref = splitRef(str(body, 'ref'));
  if (!ref) return { kind: 'ignored', deliveryId, reason: `ref '${str(body, 'ref')}' is neither a branch nor a tag` };
  const revision = str(body, 'after');
  if (ZERO_SHA.test(revision)) return { kind: 'ignored', deliveryId, reason: 'push deleted the ref' };
  const fullName = str(body, 'repository.full_name');
  const [owner, name] = fullName.split('/');
  const event: NormalisedEvent = {
    name: 'git.push',
    data: {
      forge,
      repoSource: hostOf(optStr(body, 'repository.html_url'), defaultHost),
      repoOwner: owner,
      repoName: name ?? str(body, 'repository.name'),
      cloneUrl: str(body, 'repository.clone_url'),
      branch: ref.branch,
      ...(ref.tag ? { tag: ref.tag } : {}),
      revision,
      commits: githubCommits(body),
      pusher: { name: optStr(body, 'pusher.name') || optStr(body, 'pusher.login') || optStr(body, 'sender.login'), email: optStr(body, 'pusher.email') || undefined },
      deliveryId,
      ...listedPushChanges(body, commitListComplete(body)),
    },
  };
  return { kind: 'events', deliveryId, events: [event] };
}

function repositoryEvent(body: unknown, deliveryId: string): ParseResult {
  const action = str(body, 'action');
  const fullName = str(body, 'repository.full_name');
  const repoSource = hostOf(optStr(body, 'repository.html_url'), 'github.com');
  const [newOwner, newName] = fullName.split('/');
  if (action === 'renamed') {
    const oldName = str(body, 'changes.repository.name.from');
    return {
      kind: 'events',
      deliveryId,
      events: [{ name: 'pipeline.renamed', data: { repoSource, repoOwner: newOwner, repoName: oldName, newRepoOwner: newOwner, newRepoName: newName } }],
    };
  }
  if (action === 'archived' || action === 'unarchived' || action === 'deleted') {
    return {
      kind: 'events',
      deliveryId,
      events: [{ name: 'pipeline.archived', data: { repoSource, repoOwner: newOwner, repoName: newName, archived: action !== 'unarchived' } }],
    };
  }
  return { kind: 'ignored', deliveryId, reason: `repository action '${action}' is not handled` };
}

export const github: ForgeAdapter = {
  forge: 'github',
  secretVariable: 'GITHUB_WEBHOOK_SECRET',
  authenticate(req: HttpRequest, secret: string): boolean {
    const sig = req.headers['x-hub-signature-256'] ?? '';
    return safeEqual(sig, `sha256=${hmacSha256(secret, req.rawBody)}`);
  },
  parse(req: HttpRequest, body: unknown): ParseResult {
    const deliveryId = req.headers['x-github-delivery'] ?? '';
    const event = req.headers['x-github-event'] ?? '';
    if (!deliveryId) return { kind: 'ignored', reason: 'missing X-GitHub-Delivery header' };
    switch (event) {
      case 'push':
        return githubShapedPush('github', body, deliveryId, 'github.com');
      case 'repository':
        return repositoryEvent(body, deliveryId);
      case 'ping':
        return { kind: 'ignored', deliveryId, reason: 'ping' };
      default:
        return { kind: 'ignored', deliveryId, reason: `event '${event || '(none)'}' is not handled` };
    }
  },
};
