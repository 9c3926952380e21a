/**
 * Forge deliveries as bots hear them (forge.event): as Estafette's GitHub and Bitbucket
 * integrations publish every delivery for bots beside what they build, any authenticated GitHub
 * (`X-GitHub-Event`) or Bitbucket Cloud (`X-Event-Key`) delivery that names a repository becomes
 * one forge.event with the forge's own event name (`pull_request`, `issue_comment`,
 * `pullrequest:created`, …), whatever the adapter made of it (a pull request from a branch of the
 * repository itself builds nothing, yet a `pull_request` bot runs for it). The raw payload goes
 * along up to MAX_BOT_PAYLOAD_BYTES. Pure: no I/O.
 */
import { MAX_BOT_PAYLOAD_BYTES, type ForgeEventData } from '../../../shared/events/types.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { hostOf, splitFullName, type ForgeAdapter } from './forge.ts';
import { optStr } from './payload.ts';

// Deliveries that are about the webhook itself, not a repository.
const NOT_FOR_BOTS = new Set(['ping', 'diagnostics:ping']);

/** The forge.event of an authenticated, parsed delivery to `endpoint`, or undefined when bots cannot hear it. */
export function forgeEventOf(endpoint: ForgeAdapter['endpoint'], req: HttpRequest, body: unknown): ForgeEventData | undefined {
  const forge = endpoint === 'github' ? 'github' : endpoint === 'bitbucket' ? 'bitbucket' : undefined;
  if (!forge) return undefined;
  const event = (forge === 'github' ? req.headers['x-github-event'] : req.headers['x-event-key']) ?? '';
  const deliveryId = (forge === 'github' ? req.headers['x-github-delivery'] : req.headers['x-request-uuid']) ?? '';
  if (!event || !deliveryId || NOT_FOR_BOTS.has(event)) return undefined;
  const repo = splitFullName(optStr(body, 'repository.full_name'));
  if (!repo) return undefined;
  const web = forge === 'github' ? optStr(body, 'repository.html_url') : optStr(body, 'repository.links.html.href');
  const payload = JSON.stringify(body);
  const payloadBytes = Buffer.byteLength(payload);
  return {
    forge,
    repoSource: hostOf(web, forge === 'github' ? 'github.com' : 'bitbucket.org'),
    ...repo,
    event: event.slice(0, 200),
    action: optStr(body, 'action').slice(0, 200),
    deliveryId,
    payload: payloadBytes <= MAX_BOT_PAYLOAD_BYTES ? payload : '',
    payloadBytes,
  };
}
