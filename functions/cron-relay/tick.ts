/**
 * What a cron tick is, whichever way it arrives: our own `ci.estafette.cron.tick` (local timer,
 * Kubernetes CronJob) or Knative PingSource's `dev.knative.sources.ping`, whose static data is
 * `{"time": ""}` — then the tick's minute is the CloudEvent `time` attribute, which the
 * PingSource sets to the scheduled minute. Validated here, at the edge.
 */
import { ValidationError } from '../../shared/errors/http-error.ts';
import { eventType } from '../../shared/events/types.ts';
import { decodeData } from '../../shared/events/validate.ts';

/** CloudEvent types accepted as a tick. */
export const TICK_TYPES: readonly string[] = [eventType('cron.tick'), 'dev.knative.sources.ping'];

/** An event as cron-relay receives it: a CloudEvent, or a validated ParsedEvent (`name`). */
export interface TickEvent {
  id?: string;
  type?: string;
  /** Set on events already validated by shared/events/validate.ts. */
  name?: string;
  /** CloudEvent `time` attribute. */
  time?: string;
  data?: unknown;
}

/** A validated tick. */
export interface Tick {
  id: string;
  time: Date;
}

/** True when the event is a tick (of either type). */
export const isTick = (e: TickEvent): boolean => e.name === 'cron.tick' || TICK_TYPES.includes(e.type ?? '');

// Binary-mode deliveries without a JSON content type leave data as text or bytes.
function dataTime(data: unknown): unknown {
  const d = decodeData(data);
  if (typeof d === 'string' || d instanceof Uint8Array) throw new ValidationError('cron tick data is not JSON', [{ field: 'data', message: 'expected {"time": "<ISO-8601>"}' }]);
  return d !== null && typeof d === 'object' ? (d as { time?: unknown }).time : undefined;
}

function parseTime(value: string, field: string): Date {
  // Date.parse accepts odd forms ("1"); require an ISO-8601 date and time.
  const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw new ValidationError(`cron tick ${field} is not an ISO-8601 time: '${value.slice(0, 40)}'`, [{ field, message: 'expected an ISO-8601 time' }]);
  return new Date(t);
}

/** The tick's id and time; throws ValidationError (400) when the event is not a usable tick. */
export function parseTick(e: TickEvent): Tick {
  if (!isTick(e)) throw new ValidationError(`event type '${e.type ?? e.name ?? ''}' is not a cron tick (expected ${TICK_TYPES.join(' or ')})`);
  const fromData = dataTime(e.data);
  if (fromData !== undefined && fromData !== '' && typeof fromData !== 'string') {
    throw new ValidationError('cron tick data.time must be a string', [{ field: 'data.time', message: 'must be a string' }]);
  }
  const time = fromData ? parseTime(fromData as string, 'data.time') : e.time ? parseTime(e.time, 'time') : undefined;
  if (!time) throw new ValidationError('a cron tick needs data.time or the CloudEvent time attribute', [{ field: 'data.time', message: 'is required' }]);
  return { id: e.id || `tick-${time.toISOString()}`, time };
}
