/**
 * webhook-ingest: one endpoint per forge (`POST /api/integrations/<forge>/events`, `GET …/status`).
 * It authenticates the delivery (HMAC or token, constant time), parses it (JSON, or the
 * `payload=` form GitHub and Gitea can send), normalises it and publishes the events, answering
 * 202 — no database, no forge API, no slow work inline. Event ids are derived from (forge,
 * delivery id, index), the delivery id being the one the forge keeps across its own retries and
 * a user's "Redeliver" / "Resend request" (forges/*.ts say which header); they are published as
 * JetStream's `Nats-Msg-Id`, so a quick repeat is dropped by the stream's duplicate window (the
 * answer then says `duplicate`) and a late one by build-dispatch's per-event idempotency, which
 * builds a repeat again only when the first delivery produced no build.
 * `?wait=<seconds>` (up to ESTAFETTE_WEBHOOK_MAX_WAIT_SECONDS) makes the answer wait for what
 * build-dispatch made of each push — the build, or why nothing was built (e.g. a path filter) —
 * heard over core NATS (shared/bus/dispatch-outcomes.ts); still no database on this path.
 * Every delivery is counted received, and a refused one rejected with its reason (shared/metrics/).
 * With `botEvents`, every GitHub/Bitbucket delivery that names a repository is also published as
 * a forge.event for bots (forges/forge-events.ts), built or ignored alike; its id is derived from
 * the delivery too.
 */
import { createHash } from 'node:crypto';
import { HttpError, ValidationError } from '../../shared/errors/http-error.ts';
import { isRefName, isRevision, refForMessage } from '../../shared/git/ref-name.ts';
import { eventArgs, type EventName, type EventPayloads } from '../../shared/events/types.ts';
import type { ForgeSecrets } from '../../shared/config/config.ts';
import { readJsonObject } from '../../shared/http/json-body.ts';
import { json, type HttpHandler, type HttpRequest, type HttpResponse } from '../../shared/http/types.ts';
import type { ForgeAdapter, ForkPullRequestPolicy } from './forges/forge.ts';
import { github } from './forges/github.ts';
import { gitea } from './forges/gitea.ts';
import { gitlab } from './forges/gitlab.ts';
import { bitbucket } from './forges/bitbucket.ts';
import { generic } from './forges/generic.ts';
import { forgeEventOf } from './forges/forge-events.ts';
import type { Logger } from '../../shared/log/logger.ts';
import type { DispatchOutcomes } from '../../shared/bus/dispatch-outcomes.ts';
import { webhookReceived, webhookRejected, type WebhookRejection } from '../../shared/metrics/metrics.ts';

/** The webhook endpoints by name. */
const ADAPTERS: Record<ForgeAdapter['endpoint'], ForgeAdapter> = { github, bitbucket, gitlab, gitea, generic };

export interface WebhookDeps {
  secrets: ForgeSecrets;
  /** Publishes one event with the given id; `duplicate` when the bus already had it. */
  publish<N extends EventName>(name: N, data: EventPayloads[N], id: string): Promise<{ duplicate: boolean }>;
  maxBodyBytes: number;
  /** Whether pull requests from forks build (ESTAFETTE_FORK_PULL_REQUESTS). */
  forkPullRequests: ForkPullRequestPolicy;
  /** Structured log lines (ids as fields). */
  log: Logger;
  /** Where dispatch outcomes are heard, for `?wait=` (absent: waiting is not offered). */
  outcomes?: () => Promise<Pick<DispatchOutcomes, 'listen'>>;
  /** Longest `?wait=` accepted, in seconds (default 10). */
  maxWaitSeconds?: number;
  /** Also publish each GitHub/Bitbucket delivery as a forge.event for bots (default off; the wired functions turn it on). */
  botEvents?: boolean;
}

const ROUTE = /^\/api\/integrations\/([a-z]+)\/(events|status)\/?$/;

/** Deterministic CloudEvent id of the i-th event of a delivery. */
export function deliveryEventId(forge: string, deliveryId: string, index: number): string {
  const h = createHash('sha256').update(`${forge}\0${deliveryId}\0${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The metric reason of a refused delivery, from the status it was refused with. */
function rejection(err: unknown): WebhookRejection {
  const status = err instanceof HttpError ? err.status : 500;
  if (status === 503) return 'not_configured';
  if (status === 413) return 'too_large';
  if (status === 401) return 'unauthenticated';
  return status < 500 ? 'invalid' : 'error';
}

// The fields of git.push / git.pull_request that reach git commands in build-dispatch and the builder.
const REF_FIELDS = ['branch', 'tag', 'baseBranch', 'headBranch', 'cloneRef'] as const;
const REVISION_FIELDS = ['revision', 'before'] as const;

/** Refuses (400) a delivery whose branch, tag, ref or revision git would not accept as one. */
function checkGitNames(data: Record<string, unknown>): void {
  for (const f of REF_FIELDS) {
    const v = data[f];
    if (v !== undefined && v !== '' && !isRefName(v)) throw new ValidationError(`${f} is not a valid git ref name: ${refForMessage(String(v))}`);
  }
  for (const f of REVISION_FIELDS) {
    const v = data[f];
    if (v !== undefined && v !== '' && !isRevision(v)) throw new ValidationError(`${f} is not a valid git revision: ${refForMessage(String(v))}`);
  }
}

/** The webhook-ingest handler. */
export function makeHandler(deps: WebhookDeps): HttpHandler {
  const secretOf = (a: ForgeAdapter): string | undefined => deps.secrets[a.endpoint];
  const options = { forkPullRequests: deps.forkPullRequests };

  async function events(adapter: ForgeAdapter, req: HttpRequest): Promise<HttpResponse> {
    const secret = secretOf(adapter);
    if (!secret) throw new HttpError(503, `${adapter.endpoint} webhooks are not configured (set ${adapter.secretVariable})`);
    if (req.rawBody.length > deps.maxBodyBytes) throw new HttpError(413, `body larger than ${deps.maxBodyBytes} bytes`);
    if (!adapter.authenticate(req, secret)) throw new HttpError(401, `missing or wrong ${adapter.credential}`);
    // GitHub and Gitea may send the JSON form-encoded as `payload=`.
    const body = readJsonObject(req, { maxBytes: deps.maxBodyBytes, formField: 'payload' });
    const parsed = adapter.parse(req, body, options);
    // Bots hear the delivery whatever it builds (even nothing), as its own event. Its publish runs
    // beside the build events' (one round trip to the bus, not two); the answer waits for both.
    const forgeEvent = deps.botEvents ? forgeEventOf(adapter.endpoint, req, body) : undefined;
    const forBots = forgeEvent
      ? deps
          .publish('forge.event', forgeEvent, deliveryEventId(`${adapter.endpoint}/bots`, forgeEvent.deliveryId, 0))
          .then(({ duplicate }) =>
            deps.log.info(
              { forge: adapter.endpoint, deliveryId: forgeEvent.deliveryId, event: forgeEvent.event },
              `${adapter.endpoint} delivery ${forgeEvent.deliveryId} (${forgeEvent.event}) published for bots${duplicate ? ' (duplicate dropped)' : ''}`,
            ),
          )
      : undefined;
    // Promise.all observes both, so a failed publish for bots is never an unhandled rejection.
    const [, answer] = await Promise.all([forBots, answerDelivery(adapter, req, parsed)]);
    return answer;
  }

  async function answerDelivery(adapter: ForgeAdapter, req: HttpRequest, parsed: ReturnType<ForgeAdapter['parse']>): Promise<HttpResponse> {
    if (parsed.kind === 'ignored') {
      deps.log.info({ forge: adapter.endpoint, deliveryId: parsed.deliveryId, reason: parsed.reason }, `${adapter.endpoint} delivery ignored: ${parsed.reason}`);
      return json(202, { ignored: true, reason: parsed.reason });
    }
    for (const e of parsed.events) checkGitNames(e.data as unknown as Record<string, unknown>);
    const ids = parsed.events.map((_, i) => deliveryEventId(adapter.endpoint, parsed.deliveryId, i));
    const waitMs = waitOf(req);
    // Listen before publishing: dispatch may answer before publish returns.
    const pushIds = ids.filter((_, i) => parsed.events[i]!.name === 'git.push');
    const listening = waitMs > 0 && pushIds.length > 0 && deps.outcomes ? (await deps.outcomes()).listen(pushIds, waitMs) : undefined;
    const results = await Promise.all(parsed.events.map((e, i) => deps.publish(...eventArgs(e), ids[i]!)));
    const duplicates = results.filter((r) => r.duplicate).length;
    deps.log.info(
      { forge: adapter.endpoint, deliveryId: parsed.deliveryId, eventId: ids[0], events: ids.length, duplicates },
      `${adapter.endpoint} delivery ${parsed.deliveryId}: ${ids.length - duplicates} event(s) published${duplicates ? `, ${duplicates} duplicate(s) dropped` : ''}`,
    );
    const duplicate = duplicates > 0 && duplicates === ids.length;
    // A duplicate was dropped by the bus: dispatch will not answer for it again.
    const outcomes = listening && !duplicate ? await listening.result : undefined;
    for (const o of outcomes ?? []) if (o.outcome === 'skipped') deps.log.info({ forge: adapter.endpoint, deliveryId: parsed.deliveryId, eventId: o.eventId }, `push builds nothing: ${o.reason}`);
    return json(202, {
      eventId: ids[0],
      eventIds: ids,
      ...(duplicate ? { duplicate: true } : {}),
      ...(outcomes ? { dispatch: outcomes, ...(outcomes.length < pushIds.length ? { dispatchPending: pushIds.filter((id) => !outcomes.some((o) => o.eventId === id)) } : {}) } : {}),
    });
  }

  /** `?wait=<seconds>` in ms (0 when absent or not offered); bad values are a 400. */
  function waitOf(req: HttpRequest): number {
    const raw = req.query.get('wait');
    if (raw === null || !deps.outcomes) return 0;
    const max = deps.maxWaitSeconds ?? 10;
    const n = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || n > max) throw new ValidationError(`wait must be a number of seconds from 0 to ${max}`);
    return Math.round(n * 1000);
  }

  return async (req) => {
    const m = ROUTE.exec(req.path);
    const adapter = m && Object.hasOwn(ADAPTERS, m[1]!) ? ADAPTERS[m[1] as ForgeAdapter['endpoint']] : undefined;
    if (!m || !adapter) throw new HttpError(404, `no route ${req.method} ${req.path}`);
    if (m[2] === 'status') {
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      return json(200, { status: 'ok', forge: adapter.endpoint, configured: Boolean(secretOf(adapter)) });
    }
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    webhookReceived(adapter.endpoint);
    try {
      return await events(adapter, req);
    } catch (err) {
      webhookRejected(adapter.endpoint, rejection(err));
      throw err;
    }
  };
}
