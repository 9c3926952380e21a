/**
 * The metrics of every process, in one prom-client registry served as `GET /metrics`
 * (Prometheus text format) by the function host (shared/http/health.ts). Code records through
 * the small named functions below — `webhookRejected('github', 'signature')` — never through
 * prom-client directly, so every metric, its labels and its help text are declared here once.
 * docs/observability.md lists them with the queries worth asking. Label values are closed sets
 * (forges, event types, statuses, reasons), never ids, so the series stay few.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The process's registry (tests read it through `metricsText`). */
const registry = new Registry();

const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({ name, help, labelNames, registers: [registry] });
const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) => new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });

const webhooksReceived = counter('estafette_webhooks_received_total', 'Webhook deliveries received, by forge', ['forge']);
const webhooksRejected = counter('estafette_webhooks_rejected_total', 'Webhook deliveries refused (4xx/5xx), by forge and reason', ['forge', 'reason']);
const eventsHandled = counter('estafette_events_handled_total', 'CloudEvents handled successfully, by consuming function and type', ['function', 'type']);
const eventsFailed = counter('estafette_events_failed_total', 'CloudEvent deliveries whose handler failed (redelivered later), by consuming function and type', ['function', 'type']);
const eventsDeadLettered = counter('estafette_events_dead_lettered_total', 'CloudEvents given up on after their last delivery, by consumer and type', ['consumer', 'type']);
const buildsStarted = counter('estafette_builds_started_total', 'Builds, releases and bots whose builder reported running, by kind', ['kind']);
const buildsFinished = counter('estafette_builds_finished_total', 'Builds, releases and bots that reached a final status, by kind and status', ['kind', 'status']);
const queueWait = histogram('estafette_build_queue_wait_seconds', 'Time from a job being recorded (pending) to its builder running, by kind', ['kind'], [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800]);
const buildDuration = histogram('estafette_build_duration_seconds', 'Time from running to a final status, by kind and status', ['kind', 'status'], [5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200]);
const logLines = counter('estafette_log_lines_ingested_total', 'Build log lines accepted by log-ingest, by kind', ['kind']);
const logBytes = counter('estafette_log_bytes_ingested_total', 'Bytes of build log text accepted by log-ingest, by kind', ['kind']);
const sseViewers = new Gauge({ name: 'estafette_sse_viewers', help: 'Live log viewers (Server-Sent Events streams) open now', registers: [registry] });
const reconciled = counter('estafette_jobs_reconciled_total', 'Jobs ended by housekeeping because their builder died without a final report, by kind and status', ['kind', 'status']);
const forgeFailures = counter('estafette_forge_api_failures_total', 'Forge API calls that failed, by provider, operation and HTTP status (0: no answer)', ['provider', 'operation', 'status']);

/** Why a webhook delivery was refused. */
export type WebhookRejection = 'not_configured' | 'too_large' | 'unauthenticated' | 'invalid' | 'error';

/** A webhook delivery arrived for `forge`. */
export const webhookReceived = (forge: string): void => webhooksReceived.inc({ forge });

/** A webhook delivery for `forge` was refused. */
export const webhookRejected = (forge: string, reason: WebhookRejection): void => webhooksRejected.inc({ forge, reason });

/** Function `fn` handled an event of `type` (resolve: acknowledged). */
export const eventHandled = (fn: string, type: string): void => eventsHandled.inc({ function: fn, type });

/** Function `fn` failed to handle an event of `type` (it is redelivered or dead-lettered). */
export const eventFailed = (fn: string, type: string): void => eventsFailed.inc({ function: fn, type });

/** The bus gave up on an event of `type` for `consumer`. */
export const eventDeadLettered = (consumer: string, type: string): void => eventsDeadLettered.inc({ consumer, type });

/** A job's builder reported running, `waitSeconds` after the job was recorded. */
export function buildStarted(kind: string, waitSeconds: number | undefined): void {
  buildsStarted.inc({ kind });
  if (waitSeconds !== undefined && waitSeconds >= 0) queueWait.observe({ kind }, waitSeconds);
}

/** A job reached final `status`, having run `durationSeconds`. */
export function buildFinished(kind: string, status: string, durationSeconds: number | undefined): void {
  buildsFinished.inc({ kind, status });
  if (durationSeconds !== undefined && durationSeconds >= 0) buildDuration.observe({ kind, status }, durationSeconds);
}

/** log-ingest accepted `lines` lines holding `bytes` bytes of text for a job of `kind`. */
export function logLinesIngested(kind: string, lines: number, bytes: number): void {
  logLines.inc({ kind }, lines);
  logBytes.inc({ kind }, bytes);
}

/** A live log viewer connected; call the returned function once when it goes. */
export function sseViewerJoined(): () => void {
  sseViewers.inc();
  let left = false;
  return () => {
    if (left) return;
    left = true;
    sseViewers.dec();
  };
}

/** Housekeeping ended a job of `kind` as `status` (its builder died). */
export const jobReconciled = (kind: string, status: string): void => reconciled.inc({ kind, status });

/** A forge API call (`operation`, e.g. `getManifest`) of `provider` failed with HTTP `status` (0: no answer). */
export const forgeApiFailed = (provider: string, operation: string, status: number): void => forgeFailures.inc({ provider, operation, status: String(status) });

let defaults = false;

/** Content type of `metricsText()`. */
export const METRICS_CONTENT_TYPE = registry.contentType;

/** Every metric of this process in Prometheus text format (process and Node.js metrics included). */
export async function metricsText(): Promise<string> {
  // Registered on the first scrape rather than at start: a cold start pays nothing for them.
  if (!defaults) {
    defaults = true;
    collectDefaultMetrics({ register: registry });
  }
  return registry.metrics();
}
