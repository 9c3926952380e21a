/**
 * GitLab webhooks: a shared secret token in `X-Gitlab-Token` (GitLab does not sign bodies).
 * Dedupe is on `Idempotency-Key`, which GitLab keeps when a delivery is retried or resent from
 * the UI ("Resend request" gets a new `X-Gitlab-Event-UUID`), falling back to the event UUID on
 * GitLab versions without it. Events: `Push Hook`, `Tag Push Hook`, and `Merge Request Hook`
 * (open, reopen, and update with new commits, from a fork → git.pull_request).
 */
import type { ForgeAdapter, ParseOptions, ParseResult } from './forge.ts';
import { boundedCommits, hostOf, positiveInt, pullRequestIgnored, safeEqual, skipReason, splitFullName, splitRef, ZERO_SHA } from './forge.ts';
import { arr, at, optStr, str } from './payload.ts';
import { ValidationError } from '../../../shared/errors/http-error.ts';

function projectOf(body: unknown, path: string): { repoOwner: string; repoName: string } {
  const split = splitFullName(str(body, `${path}.path_with_namespace`));
  if (!split) throw new ValidationError(`payload field '${path}.path_with_namespace' must be 'namespace/name'`);
  return split;
}

function push(body: unknown, deliveryId: string): ParseResult {
  const ref = splitRef(str(body, 'ref'));
  if (!ref) return { kind: 'ignored', deliveryId, reason: 'ref is neither a branch nor a tag' };
  const revision = optStr(body, 'checkout_sha') || str(body, 'after');
  if (ZERO_SHA.test(revision)) return { kind: 'ignored', deliveryId, reason: 'push deleted the ref' };
  const all = arr(body, 'commits').map((c) => ({ id: optStr(c, 'id'), message: optStr(c, 'message'), author: { name: optStr(c, 'author.name'), email: optStr(c, 'author.email') } }));
  const head = all.find((c) => c.id === revision);
  const skip = head ? skipReason(head.message) : undefined;
  if (skip) return { kind: 'ignored', deliveryId, reason: `push not built: ${skip}` };
  const total = positiveInt(at(body, 'total_commits_count')) ?? all.length;
  return {
    kind: 'events',
    deliveryId,
    events: [
      {
        name: 'git.push',
        data: {
          forge: 'gitlab',
          repoSource: hostOf(optStr(body, 'project.web_url'), 'gitlab.com'),
          ...projectOf(body, 'project'),
          cloneUrl: str(body, 'project.git_http_url'),
          branch: ref.branch,
          ...(ref.tag ? { tag: ref.tag } : {}),
          revision,
          // GitLab lists at most 20 commits, oldest first, and says how many there were.
          ...boundedCommits(all, 'oldest-first', total),
          pusher: { name: optStr(body, 'user_username') || optStr(body, 'user_name'), email: optStr(body, 'user_email') || undefined },
          deliveryId,
        },
      },
    ],
  };
}

function mergeRequest(body: unknown, deliveryId: string, options: ParseOptions): ParseResult {
  const action = optStr(body, 'object_attributes.action');
  const iid = positiveInt(at(body, 'object_attributes.iid'));
  if (!iid) throw new ValidationError("payload field 'object_attributes.iid' must be a positive integer");
  // An update without `oldrev` changed the title, labels or the like, not the commits.
  const newCommits = action === 'open' || action === 'reopen' || (action === 'update' && optStr(body, 'object_attributes.oldrev') !== '');
  if (!newCommits) return { kind: 'ignored', deliveryId, reason: `merge request action '${action.slice(0, 100) || '(none)'}' brings no new commits` };
  const sourceId = at(body, 'object_attributes.source_project_id');
  const targetId = at(body, 'object_attributes.target_project_id');
  const fork = sourceId !== targetId;
  const ignored = pullRequestIgnored(fork, iid, options);
  if (ignored) return { kind: 'ignored', deliveryId, reason: ignored.replace('pull request', 'merge request') };
  const target = at(body, 'object_attributes.target') === undefined ? 'project' : 'object_attributes.target';
  return {
    kind: 'events',
    deliveryId,
    events: [
      {
        name: 'git.pull_request',
        data: {
          forge: 'gitlab',
          repoSource: hostOf(optStr(body, `${target}.web_url`), 'gitlab.com'),
          ...projectOf(body, target),
          number: iid,
          action,
          baseBranch: str(body, 'object_attributes.target_branch'),
          headBranch: str(body, 'object_attributes.source_branch'),
          headRepository: optStr(body, 'object_attributes.source.path_with_namespace') || String(sourceId),
          fork,
          revision: str(body, 'object_attributes.last_commit.id'),
          // The target project keeps every merge request's head under this ref.
          cloneUrl: str(body, `${target}.git_http_url`),
          cloneRef: `merge-requests/${iid}/head`,
          title: optStr(body, 'object_attributes.title'),
          author: { name: optStr(body, 'user.username') || optStr(body, 'user.name') },
          deliveryId,
        },
      },
    ],
  };
}

export const gitlab: ForgeAdapter = {
  endpoint: 'gitlab',
  secretVariable: 'GITLAB_WEBHOOK_TOKEN',
  credential: 'token',
  authenticate: (req, secret) => safeEqual(req.headers['x-gitlab-token'] ?? '', secret),
  parse(req, body, options): ParseResult {
    const deliveryId = req.headers['idempotency-key'] || req.headers['x-gitlab-event-uuid'] || '';
    const event = req.headers['x-gitlab-event'] ?? '';
    if (!deliveryId) return { kind: 'ignored', reason: 'missing Idempotency-Key and X-Gitlab-Event-UUID headers' };
    if (event === 'Push Hook' || event === 'Tag Push Hook') return push(body, deliveryId);
    if (event === 'Merge Request Hook') return mergeRequest(body, deliveryId, options);
    return { kind: 'ignored', deliveryId, reason: `event '${event.slice(0, 100) || '(none)'}' is not handled` };
  },
};
