/**
 * Gitea and Forgejo webhooks: `X-Gitea-Signature: <hex hmac-sha256>` (Forgejo also sends
 * `X-Forgejo-*`, read when the Gitea header is absent), delivery id in `X-Gitea-Delivery`, events
 * `push` and `pull_request` (opened, synchronized, reopened). The payloads are GitHub-shaped,
 * so parsing is shared with github.ts.
 */
import { githubShapedPullRequest, githubShapedPush } from './github.ts';
import { hmacSha256, safeEqual, type ForgeAdapter } from './forge.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';

const header = (req: HttpRequest, name: string): string => req.headers[`x-gitea-${name}`] ?? req.headers[`x-forgejo-${name}`] ?? '';

export const gitea: ForgeAdapter = {
  endpoint: 'gitea',
  secretVariable: 'GITEA_WEBHOOK_SECRET',
  credential: 'signature',
  authenticate: (req, secret) => safeEqual(header(req, 'signature'), hmacSha256(secret, req.rawBody)),
  parse(req, body, options) {
    const deliveryId = header(req, 'delivery');
    const event = header(req, 'event');
    if (!deliveryId) return { kind: 'ignored', reason: 'missing X-Gitea-Delivery header' };
    if (event === 'push') return githubShapedPush('gitea', body, deliveryId, 'gitea.local');
    if (event === 'pull_request') return githubShapedPullRequest('gitea', body, deliveryId, 'gitea.local', ['opened', 'synchronized', 'reopened'], options);
    return { kind: 'ignored', deliveryId, reason: `event '${event.slice(0, 100) || '(none)'}' is not handled` };
  },
};
