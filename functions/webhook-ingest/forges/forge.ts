/**
 * What each forge adapter provides: how to authenticate a delivery, and how to turn its payload
 * into normalised events. Adapters are pure (no I/O) so they are tested with recorded payloads.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { EventName, EventPayloads, Forge } from '../../../shared/events/types.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';

/** One event to publish, without its id (the handler derives ids from the delivery). */
export type NormalisedEvent = { [N in EventName]: { name: N; data: EventPayloads[N] } }[EventName];

export type ParseResult =
  | { kind: 'events'; deliveryId: string; events: NormalisedEvent[] }
  | { kind: 'ignored'; deliveryId?: string; reason: string };

export interface ForgeAdapter {
  forge: Forge;
  /** The environment variable holding this forge's secret (named in errors). */
  secretVariable: string;
  /** True when the request carries a valid signature/token for `secret`. Constant-time. */
  authenticate(req: HttpRequest, secret: string): boolean;
  /** Normalises an authenticated delivery; throws ValidationError on a payload it cannot use. */
  parse(req: HttpRequest, body: unknown): ParseResult;
}

/** Constant-time comparison of two strings (false on different lengths, without early exit on content). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/** Hex HMAC-SHA256 of the raw body. */
export const hmacSha256 = (secret: string, body: Buffer): string => createHmac('sha256', secret).update(body).digest('hex');

/** `refs/heads/x` → { branch: 'x' }, `refs/tags/v1` → { tag: 'v1' }. */
export function splitRef(ref: string): { branch: string; tag?: string } | undefined {
  if (ref.startsWith('refs/heads/')) return { branch: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { branch: '', tag: ref.slice('refs/tags/'.length) };
  return undefined;
}

/** The host of a web URL, e.g. `https://github.com/o/r` → `github.com`. */
export function hostOf(webUrl: string | undefined, fallback: string): string {
  try {
    return webUrl ? new URL(webUrl).host : fallback;
  } catch {
    return fallback;
  }
}

export const ZERO_SHA = /^0+$/;
