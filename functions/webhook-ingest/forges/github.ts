/**
 * GitHub (and GitHub Enterprise) webhooks: `X-Hub-Signature-256: sha256=<hex hmac>`, delivery id
 * in `X-GitHub-Delivery` (a "Redeliver" reuses it, so it names the delivery, not the attempt),
 * events `push` (branches and tags; `[skip ci]` heads ignored), `pull_request` (opened,
 * synchronize, reopened from a fork → git.pull_request), `installation` and
 * `installation_repositories` (repositories the app lost → pipeline.archived, gained →
 * unarchived), `repository` (renamed → pipeline.renamed; archived/unarchived/deleted →
 * pipeline.archived) and `ping`. Gitea's payloads are GitHub-shaped, so gitea.ts reuses the
 * push and pull request parts.
 */
import type { Commit, Forge } from '../../../shared/events/types.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import {
  boundedCommits,
  hmacSha256,
  hostOf,
  positiveInt,
  pullRequestIgnored,
  safeEqual,
  skipReason,
  splitFullName,
  splitRef,
  ZERO_SHA,
  type ForgeAdapter,
  type NormalisedEvent,
  type ParseOptions,
  type ParseResult,
} from './forge.ts';
import { arr, at, optStr, str } from './payload.ts';
import { listedPushChanges } from './push-changes.ts';

// GitHub lists at most this many commits in a push payload; a full list may be cut short.
const MAX_LISTED_COMMITS = 2048;

/** True when the payload lists every pushed commit (Gitea says how many there were; GitHub caps the list). */
function commitListComplete(body: unknown): boolean {
  const listed = arr(body, 'commits').length;
  const total = at(body, 'total_commits');
  return listed < MAX_LISTED_COMMITS && (typeof total !== 'number' || total === listed);
}
import { ValidationError } from '../../../shared/errors/http-error.ts';

/** Commits of a GitHub-shaped push payload. */
function githubCommits(body: unknown): Commit[] {
  return arr(body, 'commits').map((c) => ({
    id: optStr(c, 'id'),
    message: optStr(c, 'message'),
    author: { name: optStr(c, 'author.name'), email: optStr(c, 'author.email'), username: optStr(c, 'author.username') || undefined },
  }));
}

/** owner/name of the payload's repository (`full_name`, else `owner.login` + `name`). */
function repoOf(body: unknown, path = 'repository'): { repoOwner: string; repoName: string } {
  const fullName = optStr(body, `${path}.full_name`);
  const split = fullName ? splitFullName(fullName) : undefined;
  if (split) return split;
  const owner = optStr(body, `${path}.owner.login`) || optStr(body, `${path}.owner.username`);
  const name = str(body, `${path}.name`);
  if (!owner) throw new ValidationError(`payload field '${path}.full_name' must be 'owner/name'`);
  return { repoOwner: owner, repoName: name };
}

/** A GitHub-shaped push payload as a git.push event, or why it is ignored. */
export function githubShapedPush(forge: Forge, body: unknown, deliveryId: string, defaultHost: string): ParseResult {
  const ref = splitRef(str(body, 'ref'));
  if (!ref) return { kind: 'ignored', deliveryId, reason: `ref '${str(body, 'ref').slice(0, 200)}' is neither a branch nor a tag` };
  const revision = str(body, 'after');
  if (ZERO_SHA.test(revision)) return { kind: 'ignored', deliveryId, reason: 'push deleted the ref' };
  const all = githubCommits(body);
  const head = optStr(body, 'head_commit.message') || (all.find((c) => c.id === revision) ?? all[all.length - 1])?.message || '';
  const skip = skipReason(head);
  if (skip) return { kind: 'ignored', deliveryId, reason: `push not built: ${skip}` };
  const installationId = positiveInt(at(body, 'installation.id'));
  const event: NormalisedEvent = {
    name: 'git.push',
    data: {
      forge,
      repoSource: hostOf(optStr(body, 'repository.html_url'), defaultHost),
      ...repoOf(body),
      cloneUrl: str(body, 'repository.clone_url'),
      branch: ref.branch,
      ...(ref.tag ? { tag: ref.tag } : {}),
      revision,
      ...boundedCommits(all, 'oldest-first'),
      pusher: { name: optStr(body, 'pusher.name') || optStr(body, 'pusher.login') || optStr(body, 'sender.login'), email: optStr(body, 'pusher.email') || undefined },
      deliveryId,
      ...(installationId ? { installationId } : {}),
      ...listedPushChanges(body, commitListComplete(body)),
    },
  };
  return { kind: 'events', deliveryId, events: [event] };
}

/**
 * A GitHub-shaped pull_request payload (GitHub, Gitea/Forgejo) as a git.pull_request for the
 * actions that bring new head commits, or why it is ignored. The head is fetched from the base
 * repository by the forge's pull request ref (`pull/<n>/head`), which exists even when the fork
 * is private or gone.
 */
export function githubShapedPullRequest(forge: Forge, body: unknown, deliveryId: string, defaultHost: string, builds: readonly string[], options: ParseOptions): ParseResult {
  const action = str(body, 'action');
  const number = positiveInt(at(body, 'number')) ?? positiveInt(at(body, 'pull_request.number'));
  if (!number) throw new ValidationError("payload field 'number' must be a positive integer");
  if (!builds.includes(action)) return { kind: 'ignored', deliveryId, reason: `pull request action '${action.slice(0, 100)}' does not build` };
  const base = repoOf(body, 'pull_request.base.repo');
  const headRepo = optStr(body, 'pull_request.head.repo.full_name');
  const baseFull = `${base.repoOwner}/${base.repoName}`;
  // A head repository that is gone (deleted fork) is still not the base.
  const fork = headRepo.toLowerCase() !== baseFull.toLowerCase();
  const ignored = pullRequestIgnored(fork, number, options);
  if (ignored) return { kind: 'ignored', deliveryId, reason: ignored };
  const installationId = positiveInt(at(body, 'installation.id'));
  return {
    kind: 'events',
    deliveryId,
    events: [
      {
        name: 'git.pull_request',
        data: {
          forge,
          repoSource: hostOf(optStr(body, 'pull_request.base.repo.html_url') || optStr(body, 'repository.html_url'), defaultHost),
          ...base,
          number,
          action,
          baseBranch: str(body, 'pull_request.base.ref'),
          headBranch: str(body, 'pull_request.head.ref'),
          headRepository: headRepo || '(deleted fork)',
          fork,
          revision: str(body, 'pull_request.head.sha'),
          cloneUrl: str(body, 'pull_request.base.repo.clone_url'),
          cloneRef: `pull/${number}/head`,
          title: optStr(body, 'pull_request.title'),
          author: { name: optStr(body, 'pull_request.user.login') || optStr(body, 'sender.login') },
          deliveryId,
          ...(installationId ? { installationId } : {}),
        },
      },
    ],
  };
}

function repositoryEvent(body: unknown, deliveryId: string): ParseResult {
  const action = str(body, 'action');
  const repoSource = hostOf(optStr(body, 'repository.html_url'), 'github.com');
  const { repoOwner, repoName } = repoOf(body);
  if (action === 'renamed') {
    const oldName = str(body, 'changes.repository.name.from');
    return {
      kind: 'events',
      deliveryId,
      events: [{ name: 'pipeline.renamed', data: { repoSource, repoOwner, repoName: oldName, newRepoOwner: repoOwner, newRepoName: repoName } }],
    };
  }
  if (action === 'archived' || action === 'unarchived' || action === 'deleted') {
    return { kind: 'events', deliveryId, events: [{ name: 'pipeline.archived', data: { repoSource, repoOwner, repoName, archived: action !== 'unarchived' } }] };
  }
  return { kind: 'ignored', deliveryId, reason: `repository action '${action.slice(0, 100)}' is not handled` };
}

/**
 * `installation` (created/deleted/suspend/unsuspend) and `installation_repositories`
 * (added/removed): the repositories the app can no longer read are archived, those it can read
 * again unarchived. The host is the account's.
 */
function installationEvent(event: 'installation' | 'installation_repositories', body: unknown, deliveryId: string): ParseResult {
  const action = str(body, 'action');
  const repoSource = hostOf(optStr(body, 'installation.account.html_url') || optStr(body, 'sender.html_url'), 'github.com');
  const lists: Array<{ path: string; archived: boolean }> =
    event === 'installation'
      ? action === 'deleted' || action === 'suspend'
        ? [{ path: 'repositories', archived: true }]
        : action === 'created' || action === 'unsuspend'
          ? [{ path: 'repositories', archived: false }]
          : []
      : action === 'removed'
        ? [{ path: 'repositories_removed', archived: true }]
        : action === 'added'
          ? [{ path: 'repositories_added', archived: false }]
          : [];
  const events: NormalisedEvent[] = [];
  for (const { path, archived } of lists) {
    for (const r of arr(body, path)) {
      const split = splitFullName(optStr(r, 'full_name'));
      if (split) events.push({ name: 'pipeline.archived', data: { repoSource, ...split, archived } });
    }
  }
  if (events.length === 0) return { kind: 'ignored', deliveryId, reason: `${event} action '${action.slice(0, 100)}' names no repository to archive or unarchive` };
  return { kind: 'events', deliveryId, events };
}

export const github: ForgeAdapter = {
  endpoint: 'github',
  secretVariable: 'GITHUB_WEBHOOK_SECRET',
  credential: 'signature',
  authenticate(req: HttpRequest, secret: string): boolean {
    const sig = req.headers['x-hub-signature-256'] ?? '';
    return safeEqual(sig, `sha256=${hmacSha256(secret, req.rawBody)}`);
  },
  parse(req: HttpRequest, body: unknown, options: ParseOptions): ParseResult {
    const deliveryId = req.headers['x-github-delivery'] ?? '';
    const event = req.headers['x-github-event'] ?? '';
    if (!deliveryId) return { kind: 'ignored', reason: 'missing X-GitHub-Delivery header' };
    switch (event) {
      case 'push':
        return githubShapedPush('github', body, deliveryId, 'github.com');
      case 'pull_request':
        return githubShapedPullRequest('github', body, deliveryId, 'github.com', ['opened', 'synchronize', 'reopened'], options);
      case 'repository':
        return repositoryEvent(body, deliveryId);
      case 'installation':
      case 'installation_repositories':
        return installationEvent(event, body, deliveryId);
      case 'ping':
        return { kind: 'ignored', deliveryId, reason: 'ping' };
      default:
        return { kind: 'ignored', deliveryId, reason: `event '${event.slice(0, 100) || '(none)'}' is not handled` };
    }
  },
};
