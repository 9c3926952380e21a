/**
 * Bitbucket Cloud webhooks: `X-Hub-Signature: sha256=<hex hmac>`, delivery id in
 * `X-Request-UUID` (or `X-Hook-UUID`), event `repo:push` in `X-Event-Key`. One push can carry
 * several changes (branches/tags); each becomes its own git.push.
 */
import type { ForgeAdapter, NormalisedEvent, ParseResult } from './forge.ts';
import { hmacSha256, hostOf, safeEqual } from './forge.ts';
import { arr, at, optStr, str } from './payload.ts';
import { beforeOnly } from './push-changes.ts';

/** `Jane Doe <jane@example.com>` → name and email. */
function parseRaw(raw: string): { name: string; email: string } {
  const m = /^(.*?)\s*<([^>]*)>\s*$/.exec(raw);
  return m ? { name: m[1], email: m[2] } : { name: raw, email: '' };
}

export const bitbucket: ForgeAdapter = {
  forge: 'bitbucket',
  secretVariable: 'BITBUCKET_WEBHOOK_SECRET',
  authenticate: (req, secret) => safeEqual(req.headers['x-hub-signature'] ?? '', `sha256=${hmacSha256(secret, req.rawBody)}`),
  parse(req, body): ParseResult {
    const deliveryId = req.headers['x-request-uuid'] ?? req.headers['x-hook-uuid'] ?? '';
    const event = req.headers['x-event-key'] ?? '';
    if (!deliveryId) return { kind: 'ignored', reason: 'missing X-Request-UUID header' };
    if (event !== 'repo:push') return { kind: 'ignored', deliveryId, reason: `event '${event || '(none)'}' is not handled` };
    const [owner, name] = str(body, 'repository.full_name').split('/');
    const repoSource = hostOf(optStr(body, 'repository.links.html.href'), 'bitbucket.org');
    const events: NormalisedEvent[] = [];
    for (const change of arr(body, 'push.changes')) {
      const next = at(change, 'new');
      if (!next) continue; // branch deleted
      const type = str(next, 'type');
      if (type !== 'branch' && type !== 'tag') continue;
      events.push({
        name: 'git.push',
        data: {
          forge: 'bitbucket',
          repoSource,
          repoOwner: owner,
          repoName: name,
          cloneUrl: `https://${repoSource}/${owner}/${name}.git`,
          branch: type === 'branch' ? str(next, 'name') : '',
          ...(type === 'tag' ? { tag: str(next, 'name') } : {}),
          revision: str(next, 'target.hash'),
          commits: arr(change, 'commits').map((c) => ({ id: optStr(c, 'hash'), message: optStr(c, 'message'), author: parseRaw(optStr(c, 'author.raw')) })),
          pusher: { name: optStr(body, 'actor.display_name') || optStr(body, 'actor.nickname') },
          deliveryId,
          // Bitbucket lists no files: the revisions are diffed later.
          ...beforeOnly(optStr(change, 'old.target.hash') || undefined),
        },
      });
    }
    if (events.length === 0) return { kind: 'ignored', deliveryId, reason: 'push has no new branch or tag' };
    return { kind: 'events', deliveryId, events };
  },
};
