/**
 * The forge path in one process, over real PostgreSQL and a real in-memory bus: webhook-ingest's
 * handler publishes to the bus, build-dispatch's handler consumes from it (with short backoffs so
 * retries and dead letters happen within a test), the forge is test/support/fake-forge.ts, and
 * the job runner plays the builder's part as log-ingest reports it: running (build.started),
 * then the outcome a test chose (build.finished).
 */
import type { CloudEvent } from 'cloudevents';
import { makeHandler as makeWebhook } from '../../../functions/webhook-ingest/handler.ts';
import { makeHandler as makeDispatch } from '../../../functions/build-dispatch/handler.ts';
import type { DispatchDeps } from '../../../functions/build-dispatch/deps.ts';
import { MemoryBus } from '../../../shared/bus/memory.ts';
import { publisher } from '../../../shared/runtime/runtime.ts';
import { parseEvent } from '../../../shared/events/validate.ts';
import { consumedBy } from '../../../shared/http/functions.ts';
import { parseConfig } from '../../../shared/config/config.ts';
import { ForgeEndpoints } from '../../../shared/scm/endpoints.ts';
import { scmRouter } from '../../../shared/scm/select.ts';
import { getBuild, transitionBuildStatus } from '../../../shared/db/builds.ts';
import { getRelease, transitionReleaseStatus } from '../../../shared/db/releases.ts';
import type { BuilderConfig } from '../../../shared/plan/builder-config.ts';
import type { JobRef, JobRunner } from '../../../shared/jobs/runner.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { toHttpResponse } from '../../../shared/errors/http-error.ts';
import type { Subscription } from '../../../shared/bus/bus.ts';
import { recordingLogger } from '../../support/logger.ts';
import type { TestDatabase } from '../db/database.ts';

/** A runner that reports like a builder would: running, then `outcome`. */
export class ScriptedRunner implements JobRunner {
  readonly name = 'scripted';
  readonly started: Array<{ ref: JobRef; config: BuilderConfig }> = [];
  outcome: 'succeeded' | 'failed' = 'succeeded';
  /**
   * Awaited before each report (n = 1 before running, 2 before the end): a test makes the
   * builder wait until the forge has the statuses so far, as a real build takes longer than a
   * status report; without it a report may be overtaken (and rightly dropped).
   */
  gate: (ref: JobRef, n: number) => Promise<unknown> = async () => undefined;
  constructor(private readonly harness: () => ForgeHarness) {}
  async start(ref: JobRef, config: BuilderConfig): Promise<void> {
    this.started.push({ ref, config });
    const outcome = this.outcome;
    setImmediate(() => void this.harness().play(ref, outcome, (n) => this.gate(ref, n)));
  }
  async cancel(): Promise<void> {}
  async state(): Promise<'running'> {
    return 'running';
  }
  async close(): Promise<void> {}
}

export interface HarnessOptions {
  env: Record<string, string>;
  /** Deliveries before a dead letter, and manifest attempts (default 3). */
  attempts?: number;
  duplicateWindowMs?: number;
}

export class ForgeHarness {
  readonly logs: string[] = [];
  readonly records: Array<Record<string, unknown>> = [];
  readonly bus: MemoryBus;
  readonly runner = new ScriptedRunner(() => this);
  readonly webhook;
  readonly deps: DispatchDeps;
  private subscription?: Subscription;
  private readonly publish;

  constructor(
    readonly db: TestDatabase,
    opts: HarnessOptions,
  ) {
    const log = recordingLogger(this.logs, this.records);
    this.bus = new MemoryBus({ duplicateWindowMs: opts.duplicateWindowMs ?? 120_000, log });
    const config = parseConfig({ ESTAFETTE_MANIFEST_ATTEMPTS: String(opts.attempts ?? 3), ESTAFETTE_FORGE_TIMEOUT_MS: '400', ...opts.env });
    this.publish = publisher(this.bus, '/test');
    this.webhook = makeWebhook({
      secrets: config.forgeSecrets,
      publish: (name, data, id) => this.publish(name, data, { id }),
      maxBodyBytes: 1 << 24,
      forkPullRequests: config.forkPullRequests,
      log,
    });
    const forges = new ForgeEndpoints(config.scm);
    this.deps = {
      pool: db.pool,
      scm: scmRouter(forges),
      forges,
      runner: this.runner,
      publish: async (name, data, o) => void (await this.publish(name, data, o ?? {})),
      settings: {
        jwtKey: 'test-jwt-key',
        ...(config.secretKey ? { secretKey: config.secretKey } : {}),
        logIngestUrl: 'http://log-ingest',
        baseUrl: 'https://ci.example.com',
        executor: 'host',
        maxChainDepth: 5,
        manifestAttempts: config.manifestAttempts,
        statusContext: config.statuses.contextPrefix,
      },
      log,
    };
    this.attempts = opts.attempts ?? 3;
  }
  private readonly attempts: number;

  async start(): Promise<this> {
    const handle = makeDispatch(this.deps);
    this.subscription = await this.bus.subscribe('build-dispatch', consumedBy('build-dispatch'), (ce: CloudEvent<unknown>) => handle(parseEvent(ce)), {
      maxDeliveries: this.attempts,
      backoffMs: [20, 40],
    });
    return this;
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    await this.bus.close();
  }

  /** POSTs a delivery to webhook-ingest's endpoint of `forge`. */
  async deliver(forge: string, headers: Record<string, string>, body: Buffer, query = ''): Promise<{ status: number; body: any }> {
    const req: HttpRequest = { method: 'POST', path: `/api/integrations/${forge}/events`, query: new URLSearchParams(query), headers, rawBody: body, signal: new AbortController().signal };
    try {
      return (await this.webhook(req)) as { status: number; body: any };
    } catch (err) {
      return toHttpResponse(err) as { status: number; body: any };
    }
  }

  /** Publishes an event as another function would. */
  emit: typeof this.publish = (name, data, o) => this.publish(name, data, o);

  /** What log-ingest does on the builder's reports: running, then `outcome`, each with its event. */
  async play(ref: JobRef, outcome: 'succeeded' | 'failed', gate: (n: number) => Promise<unknown> = async () => undefined): Promise<void> {
    await gate(1);
    if (ref.kind === 'build') {
      const b = await transitionBuildStatus(this.db.pool, ref.id, 'running');
      const data = { repoSource: b.repoSource, repoOwner: b.repoOwner, repoName: b.repoName, buildId: b.id, branch: b.repoBranch, revision: b.repoRevision, version: b.buildVersion, chainDepth: b.chainDepth };
      await this.publish('build.started', data, { id: `${b.id}-running` });
      await gate(2);
      const f = await transitionBuildStatus(this.db.pool, ref.id, outcome);
      await this.publish('build.finished', { ...data, status: f.buildStatus }, { id: `${b.id}-final` });
    } else if (ref.kind === 'release') {
      const r = await transitionReleaseStatus(this.db.pool, ref.id, 'running');
      const data = {
        repoSource: r.repoSource,
        repoOwner: r.repoOwner,
        repoName: r.repoName,
        releaseId: r.id,
        name: r.name,
        ...(r.action ? { action: r.action } : {}),
        version: r.releaseVersion,
        chainDepth: r.chainDepth,
      };
      await this.publish('release.started', data, { id: `${r.id}-running` });
      await gate(2);
      const f = await transitionReleaseStatus(this.db.pool, ref.id, outcome);
      await this.publish('release.finished', { ...data, status: f.releaseStatus }, { id: `${r.id}-final` });
    }
  }

  build = (id: string) => getBuild(this.db.pool, id);
  release = (id: string) => getRelease(this.db.pool, id);
}
