/**
 * The generic webhook, for any git server and for local repositories:
 * `Authorization: Bearer <ESTAFETTE_WEBHOOK_TOKEN>`, JSON
 * `{"repository": "<git URL or file:// path>", "branch": "…", "revision": "<sha>"}` — plus an
 * optional `"before": "<sha>"` (the branch head before the push, so `changed(…)` and path filters
 * know what changed) — and an optional `X-Delivery-Id` header used for dedupe (without it every
 * delivery is new).
 */
import { randomUUID } from 'node:crypto';
import { basename, dirname } from 'node:path';
import { ValidationError } from '../../../shared/errors/http-error.ts';
import { bodySchema } from '../../../shared/http/json-body.ts';
import type { RepoRef } from '../../../shared/events/types.ts';
import { isRefName, refForMessage } from '../../../shared/git/ref-name.ts';
import { safeEqual, skipReason, type ForgeAdapter, type ParseResult } from './forge.ts';
import { beforeOnly } from './push-changes.ts';

const NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** The generic webhook's body. */
export interface GenericPush {
  repository: string;
  branch: string;
  revision: string;
  before?: string;
  message?: string;
  author?: string;
  pusher?: string;
}

const nonEmpty = { type: 'string', minLength: 1 };
const GENERIC_PUSH = bodySchema<GenericPush>({
  type: 'object',
  required: ['repository', 'branch', 'revision'],
  properties: { repository: nonEmpty, branch: nonEmpty, revision: nonEmpty, before: { type: 'string' }, message: { type: 'string' }, author: { type: 'string' }, pusher: { type: 'string' } },
});

/**
 * Source/owner/name of a repository URL: `https://host/owner/name(.git)` → host, owner, name
 * (nested GitLab groups keep their path as owner); `file:///x/owner/name` or `/x/owner/name` →
 * source `local`, the parent folder as owner.
 */
export function repoFromUrl(raw: string): RepoRef {
  const bad = () => new ValidationError(`'repository' is not a git URL or local path: '${raw.slice(0, 200)}'`);
  let source: string;
  let path: string;
  if (raw.startsWith('/') || raw.startsWith('file://')) {
    source = 'local';
    try {
      path = raw.startsWith('file://') ? decodeURIComponent(new URL(raw).pathname) : raw;
    } catch {
      throw bad();
    }
    const name = basename(path).replace(/\.git$/, '');
    const owner = basename(dirname(path)) || 'local';
    if (!NAME.test(name)) throw bad();
    return { repoSource: source, repoOwner: NAME.test(owner) ? owner : 'local', repoName: name };
  }
  const scp = /^[\w.-]+@([\w.-]+):(.+)$/.exec(raw); // git@host:owner/name.git
  if (scp) [source, path] = [scp[1], scp[2]];
  else {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw bad();
    }
    if (!['http:', 'https:', 'ssh:', 'git:'].includes(u.protocol)) throw bad();
    [source, path] = [u.host, u.pathname];
  }
  const parts = path
    .replace(/^\/+|\/+$/g, '')
    .replace(/\.git$/, '')
    .split('/');
  if (parts.length < 2 || !parts.every((p) => NAME.test(p))) throw bad();
  return { repoSource: source, repoOwner: parts.slice(0, -1).join('/'), repoName: parts[parts.length - 1] };
}

export const generic: ForgeAdapter = {
  endpoint: 'generic',
  secretVariable: 'ESTAFETTE_WEBHOOK_TOKEN',
  credential: 'token',
  authenticate(req, token) {
    const auth = req.headers.authorization ?? '';
    return safeEqual(auth, `Bearer ${token}`);
  },
  parse(req, body): ParseResult {
    const deliveryId = req.headers['x-delivery-id'] || randomUUID();
    const { repository, branch, revision, before = '', message = '', author = '', pusher = '' } = GENERIC_PUSH.validate(body);
    if (!isRefName(branch)) throw new ValidationError(`'branch' is not a valid branch name: ${refForMessage(branch)}`);
    if (!/^[0-9a-f]{7,64}$/i.test(revision)) throw new ValidationError(`'revision' must be a commit sha (7–64 hex characters)`);
    if (before && !/^[0-9a-f]{7,64}$/i.test(before)) throw new ValidationError(`'before' must be a commit sha (7–64 hex characters)`);
    const repo = repoFromUrl(repository);
    const skip = skipReason(message);
    if (skip) return { kind: 'ignored', deliveryId, reason: `push not built: ${skip}` };
    return {
      kind: 'events',
      deliveryId,
      events: [
        {
          name: 'git.push',
          data: {
            forge: 'generic',
            ...repo,
            cloneUrl: repository,
            branch,
            revision: revision.toLowerCase(),
            commits: message ? [{ id: revision, message, author: { name: author, email: '' } }] : [],
            pusher: { name: pusher || 'generic-webhook' },
            deliveryId,
            ...beforeOnly(before.toLowerCase() || undefined),
          },
        },
      ],
    };
  },
};
