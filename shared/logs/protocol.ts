/**
 * The wire contract between the builder and log-ingest (JSON over HTTP, bearer job token).
 *
 *   POST {ingest.url}/api/ingest/{builds|releases|bots}/{id}/logs       body: LogBatch
 *   POST {ingest.url}/api/ingest/{builds|releases|bots}/{id}/status     body: StatusReport
 *   POST {ingest.url}/api/ingest/{builds|releases|bots}/{id}/heartbeat  body: Heartbeat
 *
 * Liveness: every request a builder sends (logs, status or heartbeat) shows it is alive; when it
 * has sent nothing for `heartbeatSeconds` (BuilderConfig, default HEARTBEAT_SECONDS) it sends a
 * Heartbeat, so the server tells a live build that prints nothing from a dead one.
 *
 * Answers: 202 accepted (idempotent: resending a batch is harmless), 400 malformed,
 * 401 bad token (expired: a token lives until the job's deadline) / token for another job,
 * 404 unknown job, 409 illegal status transition or a job already final (succeeded, failed,
 * canceled — by its builder or by the system): nothing more is written for it, 413 batch too large. Live viewers receive each accepted batch on core NATS `logs.<id>` as a
 * LiveMessage. Lines written by the system itself (e.g. a `validate-manifest` step) take the
 * next seq after the stored maximum; they are only written while no builder runs for the job.
 */
import type { JobStatus, StageStatus } from '../status/status.ts';

export const LOG_STREAMS = ['stdout', 'stderr'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

/** Max lines in one batch and max bytes of one request body. */
export const MAX_BATCH_LINES = 5000;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * One line of output. `seq` is assigned by the builder from ONE counter per job (across all
 * stages, runs and parallel branches), 0-based and gap-free: (job, seq) is the line's identity,
 * so a resent batch is idempotent, lines order by seq, and a live viewer resumes after a seq.
 */
export interface LogLine {
  /** Stage path: `build`, `parent/child` for parallel stages, `stage/service-name` for services. */
  stage: string;
  /** Attempt number, 1-based (retries add runs). */
  run: number;
  /** 0-based, gap-free within the job (one counter for the whole job). */
  seq: number;
  /** ISO-8601 time the line was read. */
  time: string;
  stream: LogStream;
  text: string;
}

export interface LogBatch {
  lines: LogLine[];
}

/** Status of one stage run. */
export interface StageReport {
  stage: string;
  run: number;
  /** Parent stage path for parallel children and services. */
  parent?: string;
  kind: 'stage' | 'parallel' | 'service' | 'builtin';
  status: StageStatus;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** Short reason shown next to the status (e.g. "timed out after 30s", "exit code 2"). */
  message?: string;
}

export interface StatusReport {
  /** New status of the job as a whole, if it changes. */
  status?: JobStatus;
  stages?: StageReport[];
}

/** "Still here": sent by a builder that has reported nothing else for `heartbeatSeconds`. */
export interface Heartbeat {
  /** ISO-8601 time the builder sent it. */
  sentAt: string;
}

/** Seconds of silence after which a builder sends a Heartbeat, unless its config says otherwise. */
export const HEARTBEAT_SECONDS = 10;

/** The endpoints of a job's ingest. */
export type IngestEndpoint = 'logs' | 'status' | 'heartbeat';

/** Path of a job's ingest endpoint. */
export const ingestPath = (kind: 'build' | 'release' | 'bot', id: string, what: IngestEndpoint): string => `/api/ingest/${kind}s/${encodeURIComponent(id)}/${what}`;

/** What log-ingest publishes on core NATS `logs.<id>` for live viewers. */
export interface LiveMessage {
  lines?: LogLine[];
  status?: StatusReport;
}
