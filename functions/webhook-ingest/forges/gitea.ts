/**
 * Gitea webhooks: `X-Gitea-Signature: <hex hmac-sha256>`, `X-Gitea-Delivery`, `X-Gitea-Event: push`.
 * Gitea's push payload is GitHub-shaped, so parsing is shared with github.ts.
 */
import { githubShapedPush } from './github.ts';
import { hmacSha256, safeEqual, type ForgeAdapter } from './forge.ts';

export const gitea: ForgeAdapter = {
  forge: 'gitea',
  secretVariable: 'GITEA_WEBHOOK_SECRET',
  authenticate: (req, secret) => safeEqual(req.headers['x-gitea-signature'] ?? '', hmacSha256(secret, req.rawBody)),
  parse(req, body) {
    const deliveryId = req.headers['x-gitea-delivery'] ?? '';
    const event = req.headers['x-gitea-event'] ?? '';
    if (!deliveryId) return { kind: 'ignored', reason: 'missing X-Gitea-Delivery header' };
    if (event !== 'push') return { kind: 'ignored', deliveryId, reason: `event '${event || '(none)'}' is not handled` };
    return githubShapedPush('gitea', body, deliveryId, 'gitea.local');
  },
};
