/**
 * Bitbucket webhooks, Cloud and Server / Data Center alike: `X-Hub-Signature: sha256=<hex hmac>`.
 * - Cloud: delivery id `X-Request-UUID` (never `X-Hook-UUID`, which names the webhook itself and
 *   is the same on every delivery), event in `X-Event-Key`: `repo:push` (one push can carry
 *   several changes, branches or tags; each becomes its own git.push), `pullrequest:created` and
 *   `pullrequest:updated` from a fork → git.pull_request (cloned from the fork: Bitbucket keeps no
 *   pull request refs in the destination).
 * - Server / Data Center: delivery id `X-Request-Id`, `repo:refs_changed` pushes (forge
 *   `bitbucket-server`), `diagnostics:ping`.
 */
import type { ForgeAdapter, NormalisedEvent, ParseOptions, ParseResult } from './forge.ts';
import { boundedCommits, hmacSha256, hostOf, positiveInt, pullRequestIgnored, safeEqual, skipReason, splitFullName, ZERO_SHA } from './forge.ts';
import { arr, at, optStr, str } from './payload.ts';
import { ValidationError } from '../../../shared/errors/http-error.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { beforeOnly } from './push-changes.ts';

/** `Jane Doe <jane@example.com>` → name and email. */
function parseRaw(raw: string): { name: string; email: string } {
  const m = /^(.*?)\s*<([^>]*)>\s*$/.exec(raw);
  return m ? { name: m[1]!, email: m[2]! } : { name: raw, email: '' };
}

function cloudRepo(body: unknown, path: string): { repoOwner: string; repoName: string } {
  const split = splitFullName(str(body, `${path}.full_name`));
  if (!split) throw new ValidationError(`payload field '${path}.full_name' must be 'workspace/slug'`);
  return split;
}

function cloudPush(body: unknown, deliveryId: string): ParseResult {
  const repo = cloudRepo(body, 'repository');
  const repoSource = hostOf(optStr(body, 'repository.links.html.href'), 'bitbucket.org');
  const events: NormalisedEvent[] = [];
  const skipped: string[] = [];
  for (const change of arr(body, 'push.changes')) {
    const next = at(change, 'new');
    if (!next) continue; // branch deleted
    const type = str(next, 'type');
    if (type !== 'branch' && type !== 'tag') continue;
    const skip = skipReason(optStr(next, 'target.message'));
    if (skip) {
      skipped.push(skip);
      continue;
    }
    // Bitbucket lists the newest commits first, at most 5, and says `truncated` when there were more.
    const commits = arr(change, 'commits').map((c) => ({ id: optStr(c, 'hash'), message: optStr(c, 'message'), author: parseRaw(optStr(c, 'author.raw')) }));
    events.push({
      name: 'git.push',
      data: {
        forge: 'bitbucket',
        repoSource,
        ...repo,
        cloneUrl: `https://${repoSource}/${repo.repoOwner}/${repo.repoName}.git`,
        branch: type === 'branch' ? str(next, 'name') : '',
        ...(type === 'tag' ? { tag: str(next, 'name') } : {}),
        revision: str(next, 'target.hash'),
        ...boundedCommits(commits, 'newest-first'),
        pusher: { name: optStr(body, 'actor.display_name') || optStr(body, 'actor.nickname') },
        deliveryId,
        // Bitbucket lists no files: the revisions are diffed later.
        ...beforeOnly(optStr(change, 'old.target.hash') || undefined),
      },
    });
  }
  if (events.length === 0) return { kind: 'ignored', deliveryId, reason: skipped[0] ? `push not built: ${skipped[0]}` : 'push has no new branch or tag' };
  return { kind: 'events', deliveryId, events };
}

function cloudPullRequest(body: unknown, deliveryId: string, action: string, options: ParseOptions): ParseResult {
  const number = positiveInt(at(body, 'pullrequest.id'));
  if (!number) throw new ValidationError("payload field 'pullrequest.id' must be a positive integer");
  if (optStr(body, 'pullrequest.state') && optStr(body, 'pullrequest.state') !== 'OPEN')
    return { kind: 'ignored', deliveryId, reason: `pull request #${number} is ${optStr(body, 'pullrequest.state').toLowerCase().slice(0, 40)}` };
  const base = cloudRepo(body, 'pullrequest.destination.repository');
  const head = str(body, 'pullrequest.source.repository.full_name');
  const fork = head.toLowerCase() !== `${base.repoOwner}/${base.repoName}`.toLowerCase();
  const ignored = pullRequestIgnored(fork, number, options);
  if (ignored) return { kind: 'ignored', deliveryId, reason: ignored };
  const repoSource = hostOf(optStr(body, 'repository.links.html.href') || optStr(body, 'pullrequest.destination.repository.links.html.href'), 'bitbucket.org');
  const headBranch = str(body, 'pullrequest.source.branch.name');
  return {
    kind: 'events',
    deliveryId,
    events: [
      {
        name: 'git.pull_request',
        data: {
          forge: 'bitbucket',
          repoSource,
          ...base,
          number,
          action,
          baseBranch: str(body, 'pullrequest.destination.branch.name'),
          headBranch,
          headRepository: head,
          fork,
          revision: str(body, 'pullrequest.source.commit.hash'),
          cloneUrl: `https://${repoSource}/${head}.git`,
          cloneRef: headBranch,
          title: optStr(body, 'pullrequest.title'),
          author: { name: optStr(body, 'pullrequest.author.display_name') || optStr(body, 'actor.display_name') },
          deliveryId,
        },
      },
    ],
  };
}

/**
 * Bitbucket Server / Data Center `repo:refs_changed`: one git.push per added or updated branch or
 * tag. Its payload names the repository (project key, slug) but, in most versions, not the
 * server: the host comes from the repository's links when present, else from the webhook URL's
 * `?host=` (as the administrator configured it).
 */
function serverPush(req: HttpRequest, body: unknown, deliveryId: string): ParseResult {
  const project = str(body, 'repository.project.key');
  const slug = str(body, 'repository.slug');
  const links = arr(body, 'repository.links.clone');
  const httpClone = links.find((l) => optStr(l, 'name') === 'http') ?? links.find((l) => /^https?:/.test(optStr(l, 'href')));
  const self = arr(body, 'repository.links.self')[0];
  const configured = req.query.get('host') ?? '';
  if (configured && !/^[a-z0-9.-]+(:\d{1,5})?$/i.test(configured)) throw new ValidationError("query parameter 'host' must be a host name (host or host:port)");
  const repoSource = hostOf(optStr(self, 'href') || optStr(httpClone, 'href'), configured);
  if (!repoSource) throw new ValidationError('the payload names no server: add ?host=<your Bitbucket host> to the webhook URL');
  const cloneUrl = optStr(httpClone, 'href') || `https://${repoSource}/scm/${project.toLowerCase()}/${slug}.git`;
  const events: NormalisedEvent[] = [];
  for (const change of arr(body, 'changes')) {
    if (optStr(change, 'type') === 'DELETE') continue;
    const revision = str(change, 'toHash');
    if (ZERO_SHA.test(revision)) continue;
    const type = optStr(change, 'ref.type');
    const name = optStr(change, 'ref.displayId') || str(change, 'ref.id').replace(/^refs\/(heads|tags)\//, '');
    if (type !== 'BRANCH' && type !== 'TAG') continue;
    events.push({
      name: 'git.push',
      data: {
        forge: 'bitbucket-server',
        repoSource,
        repoOwner: project,
        repoName: slug,
        cloneUrl,
        branch: type === 'BRANCH' ? name : '',
        ...(type === 'TAG' ? { tag: name } : {}),
        revision,
        commits: [],
        pusher: { name: optStr(body, 'actor.name') || optStr(body, 'actor.displayName'), email: optStr(body, 'actor.emailAddress') || undefined },
        deliveryId,
        ...beforeOnly(optStr(change, 'fromHash') || undefined),
      },
    });
  }
  if (events.length === 0) return { kind: 'ignored', deliveryId, reason: 'push has no new branch or tag' };
  return { kind: 'events', deliveryId, events };
}

const isServer = (req: HttpRequest): boolean => !req.headers['x-request-uuid'] && Boolean(req.headers['x-request-id']);

export const bitbucket: ForgeAdapter = {
  endpoint: 'bitbucket',
  secretVariable: 'BITBUCKET_WEBHOOK_SECRET',
  credential: 'signature',
  authenticate: (req, secret) => safeEqual(req.headers['x-hub-signature'] ?? '', `sha256=${hmacSha256(secret, req.rawBody)}`),
  parse(req, body, options): ParseResult {
    const event = req.headers['x-event-key'] ?? '';
    if (isServer(req)) {
      const deliveryId = req.headers['x-request-id']!;
      if (event === 'repo:refs_changed') return serverPush(req, body, deliveryId);
      if (event === 'diagnostics:ping') return { kind: 'ignored', deliveryId, reason: 'ping' };
      return { kind: 'ignored', deliveryId, reason: `event '${event.slice(0, 100) || '(none)'}' is not handled` };
    }
    const deliveryId = req.headers['x-request-uuid'] ?? '';
    if (!deliveryId) return { kind: 'ignored', reason: 'missing X-Request-UUID header (Bitbucket Server: X-Request-Id)' };
    if (event === 'repo:push') return cloudPush(body, deliveryId);
    if (event === 'pullrequest:created' || event === 'pullrequest:updated') return cloudPullRequest(body, deliveryId, event.slice('pullrequest:'.length), options);
    return { kind: 'ignored', deliveryId, reason: `event '${event.slice(0, 100) || '(none)'}' is not handled` };
  },
};
