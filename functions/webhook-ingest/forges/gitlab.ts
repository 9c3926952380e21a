/**
 * GitLab webhooks: a shared secret token in `X-Gitlab-Token` (GitLab does not sign bodies),
 * delivery id in `X-Gitlab-Event-UUID`, events `Push Hook` and `Tag Push Hook`.
 */
import type { ForgeAdapter, ParseResult } from './forge.ts';
import { hostOf, safeEqual, splitRef, ZERO_SHA } from './forge.ts';
import { arr, at, optStr, str } from './payload.ts';
import { listedPushChanges } from './push-changes.ts';

export const gitlab: ForgeAdapter = {
  forge: 'gitlab',
  secretVariable: 'GITLAB_WEBHOOK_TOKEN',
  authenticate: (req, secret) => safeEqual(req.headers['x-gitlab-token'] ?? '', secret),
  parse(req, body): ParseResult {
    const deliveryId = req.headers['x-gitlab-event-uuid'] ?? req.headers['x-gitlab-webhook-uuid'] ?? '';
    const event = req.headers['x-gitlab-event'] ?? '';
    if (!deliveryId) return { kind: 'ignored', reason: 'missing X-Gitlab-Event-UUID header' };
    if (event !== 'Push Hook' && event !== 'Tag Push Hook') return { kind: 'ignored', deliveryId, reason: `event '${event || '(none)'}' is not handled` };
    const ref = splitRef(str(body, 'ref'));
    if (!ref) return { kind: 'ignored', deliveryId, reason: 'ref is neither a branch nor a tag' };
    const revision = optStr(body, 'checkout_sha') || str(body, 'after');
    if (ZERO_SHA.test(revision)) return { kind: 'ignored', deliveryId, reason: 'push deleted the ref' };
    const path = str(body, 'project.path_with_namespace');
    const cut = path.lastIndexOf('/');
    return {
      kind: 'events',
      deliveryId,
      events: [
        {
          name: 'git.push',
          data: {
            forge: 'gitlab',
            repoSource: hostOf(optStr(body, 'project.web_url'), 'gitlab.com'),
            repoOwner: path.slice(0, cut),
            repoName: path.slice(cut + 1),
            cloneUrl: str(body, 'project.git_http_url'),
            branch: ref.branch,
            ...(ref.tag ? { tag: ref.tag } : {}),
            revision,
            commits: arr(body, 'commits').map((c) => ({ id: optStr(c, 'id'), message: optStr(c, 'message'), author: { name: optStr(c, 'author.name'), email: optStr(c, 'author.email') } })),
            pusher: { name: optStr(body, 'user_username') || optStr(body, 'user_name'), email: optStr(body, 'user_email') || undefined },
            deliveryId,
            // GitLab lists at most 20 commits; total_commits_count says whether that is all of them.
            ...listedPushChanges(body, at(body, 'total_commits_count') === arr(body, 'commits').length),
          },
        },
      ],
    };
  },
};
