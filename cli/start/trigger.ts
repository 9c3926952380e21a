/**
 * Posts the generic webhook for a local repository's HEAD — what `estafette trigger` and
 * `estafette start --demo` do, so a user builds their own repo without a forge.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';

export interface TriggerResult {
  eventId: string;
  repository: string;
  branch: string;
  revision: string;
}

const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/** Triggers a build of `dir` (branch: given, else the checked-out one) on the server at `baseUrl`. */
export async function triggerRepo(baseUrl: string, token: string, dir: string, branch?: string): Promise<TriggerResult> {
  const root = git(resolve(dir), 'rev-parse', '--show-toplevel');
  const revision = git(root, 'rev-parse', 'HEAD');
  const b = branch ?? git(root, 'rev-parse', '--abbrev-ref', 'HEAD');
  const repository = `file://${root}`;
  let res: Response;
  try {
    res = await fetch(`${baseUrl.replace(/\/$/, '')}/api/integrations/generic/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-delivery-id': randomUUID() },
      body: JSON.stringify({ repository, branch: b, revision, message: git(root, 'log', '-1', '--format=%s'), author: git(root, 'log', '-1', '--format=%an') }),
    });
  } catch (err) {
    throw new Error(`cannot reach ${baseUrl}: ${(err as Error).message} (is 'estafette start' running? set ESTAFETTE_URL)`);
  }
  const body = (await res.json().catch(() => ({}))) as { eventId?: string; message?: string };
  if (!res.ok) throw new Error(`the server refused the trigger: ${res.status} ${body.message ?? ''}`.trim());
  return { eventId: body.eventId ?? '', repository, branch: b, revision };
}
