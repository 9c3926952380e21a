/** Signed webhook requests as the forges send them, for tests and benchmarks. */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/webhooks/${name}`, import.meta.url));

const hmac = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('hex');

/** Headers of a GitHub delivery of `event` signed with `secret`. */
export function githubHeaders(secret: string, body: Buffer, event = 'push', deliveryId: string = randomUUID()): Record<string, string> {
  return { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': deliveryId, 'x-hub-signature-256': `sha256=${hmac(secret, body)}` };
}

export function giteaHeaders(secret: string, body: Buffer, event = 'push', deliveryId: string = randomUUID()): Record<string, string> {
  return { 'content-type': 'application/json', 'x-gitea-event': event, 'x-gitea-delivery': deliveryId, 'x-gitea-signature': hmac(secret, body) };
}

export function bitbucketHeaders(secret: string, body: Buffer, event = 'repo:push', deliveryId: string = randomUUID()): Record<string, string> {
  return { 'content-type': 'application/json', 'x-event-key': event, 'x-request-uuid': deliveryId, 'x-hub-signature': `sha256=${hmac(secret, body)}` };
}

export function gitlabHeaders(token: string, event = 'Push Hook', deliveryId: string = randomUUID()): Record<string, string> {
  return { 'content-type': 'application/json', 'x-gitlab-event': event, 'x-gitlab-event-uuid': deliveryId, 'x-gitlab-token': token };
}

/** A GitHub push payload for another repo/branch/revision, from the real-format fixture. */
export function githubPush(opts: { owner?: string; name?: string; branch?: string; revision?: string } = {}): Buffer {
  const p = JSON.parse(fixture('github-push.json').toString());
  const owner = opts.owner ?? 'estafette';
  const name = opts.name ?? 'estafette-ci-api';
  p.repository.full_name = `${owner}/${name}`;
  p.repository.name = name;
  p.repository.html_url = `https://github.com/${owner}/${name}`;
  p.repository.clone_url = `https://github.com/${owner}/${name}.git`;
  if (opts.branch) p.ref = `refs/heads/${opts.branch}`;
  if (opts.revision) p.after = opts.revision;
  return Buffer.from(JSON.stringify(p));
}
