/**
 * webhook-ingest: one endpoint per forge (`POST /api/integrations/<forge>/events`, `GET …/status`).
 * It authenticates the delivery (HMAC or token, constant time), parses and normalises it,
 * publishes the events and answers 202 — no database, no slow work inline. Event ids are
 * derived from (forge, delivery id, index) and published as JetStream's `Nats-Msg-Id`, so a quick
 * redelivery is dropped by the stream's duplicate window (the answer then says `duplicate`) and a
 * late one by build-dispatch's per-event idempotency: a delivery never builds twice. Every
 * delivery is counted received, and a refused one rejected with its reason (shared/metrics/).
 */
import { createHash } from 'node:crypto';
import { HttpError, ValidationError } from '../../shared/errors/http-error.ts';
import type { EventName, EventPayloads, Forge } from '../../shared/events/types.ts';
import type { ForgeSecrets } from '../../shared/config/config.ts';
import { json, type HttpHandler, type HttpRequest, type HttpResponse } from '../../shared/http/types.ts';
import type { ForgeAdapter } from './forges/forge.ts';
import { github } from './forges/github.ts';
import { gitea } from './forges/gitea.ts';
import { gitlab } from './forges/gitlab.ts';
import { bitbucket } from './forges/bitbucket.ts';
import { generic } from './forges/generic.ts';
import type { Logger } from '../../shared/log/logger.ts';
import { webhookReceived, webhookRejected, type WebhookRejection } from '../../shared/metrics/metrics.ts';

export const ADAPTERS: Record<Forge, ForgeAdapter> = { github, bitbucket, gitlab, gitea, generic };

export interface WebhookDeps {
  secrets: ForgeSecrets;
  /** Publishes one event with the given id; `duplicate` when the bus already had it. */
  publish<N extends EventName>(name: N, data: EventPayloads[N], id: string): Promise<{ duplicate: boolean }>;
  maxBodyBytes: number;
  /** Structured log lines (ids as fields). */
  log: Logger;
}

const ROUTE = /^\/api\/integrations\/([a-z]+)\/(events|status)\/?$/;

/** Deterministic CloudEvent id of the i-th event of a delivery. */
export function deliveryEventId(forge: Forge, deliveryId: string, index: number): string {
  const h = createHash('sha256').update(`${forge}\0${deliveryId}\0${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ValidationError('body is not valid JSON');
  }
}

/** The metric reason of a refused delivery, from the status it was refused with. */
function rejection(err: unknown): WebhookRejection {
  const status = err instanceof HttpError ? err.status : 500;
  if (status === 503) return 'not_configured';
  if (status === 413) return 'too_large';
  if (status === 401) return 'unauthenticated';
  return status < 500 ? 'invalid' : 'error';
}

/** The webhook-ingest handler. */
export function makeHandler(deps: WebhookDeps): HttpHandler {
  const secretOf = (f: Forge): string | undefined => deps.secrets[f];

  async function events(adapter: ForgeAdapter, req: HttpRequest): Promise<HttpResponse> {
    const secret = secretOf(adapter.forge);
    if (!secret) throw new HttpError(503, `${adapter.forge} webhooks are not configured (set ${adapter.secretVariable})`);
    if (req.rawBody.length > deps.maxBodyBytes) throw new HttpError(413, `body larger than ${deps.maxBodyBytes} bytes`);
    if (!adapter.authenticate(req, secret)) throw new HttpError(401, adapter.forge === 'generic' || adapter.forge === 'gitlab' ? 'missing or wrong token' : 'missing or wrong signature');
    const body = parseJson(req.rawBody);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('body must be a JSON object');
    const parsed = adapter.parse(req, body);
    if (parsed.kind === 'ignored') {
      deps.log.info({ forge: adapter.forge, deliveryId: parsed.deliveryId, reason: parsed.reason }, `${adapter.forge} delivery ignored: ${parsed.reason}`);
      return json(202, { ignored: true, reason: parsed.reason });
    }
    const ids = parsed.events.map((_, i) => deliveryEventId(adapter.forge, parsed.deliveryId, i));
    let duplicates = 0;
    for (const [i, e] of parsed.events.entries()) if ((await deps.publish(e.name, e.data as never, ids[i]!)).duplicate) duplicates++;
    deps.log.info({ forge: adapter.forge, deliveryId: parsed.deliveryId, eventId: ids[0], events: ids.length, duplicates }, `${adapter.forge} delivery ${parsed.deliveryId}: ${ids.length - duplicates} event(s) published${duplicates ? `, ${duplicates} duplicate(s) dropped` : ''}`);
    return json(202, { eventId: ids[0], eventIds: ids, ...(duplicates > 0 && duplicates === ids.length ? { duplicate: true } : {}) });
  }

  return async (req) => {
    const m = ROUTE.exec(req.path);
    const adapter = m ? ADAPTERS[m[1] as Forge] : undefined;
    if (!m || !adapter) throw new HttpError(404, `no route ${req.method} ${req.path}`);
    if (m[2] === 'status') {
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      return json(200, { status: 'ok', forge: adapter.forge, configured: Boolean(secretOf(adapter.forge)) });
    }
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    webhookReceived(adapter.forge);
    try {
      return await events(adapter, req);
    } catch (err) {
      webhookRejected(adapter.forge, rejection(err));
      throw err;
    }
  };
}
