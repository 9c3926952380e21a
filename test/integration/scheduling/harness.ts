/**
 * The scheduling suites' system: migrated PostgreSQL, NATS JetStream as the bus (a unique
 * stream per harness), build-dispatch instances consuming from it like the local mode does,
 * the real log-ingest and query-api handlers, and — in place of Kubernetes — a SimulatedRunner
 * whose "builders" report running and then a final status to the real log-ingest with their
 * job token, so `build.finished` travels the real path back to dispatch and frees the slot.
 * Builds are held until the test lets them go (`hold`) or end after a short time (`auto`), and
 * every start, run and cancel is recorded for the assertions.
 */
import { connect } from 'nats';
import { connectJetStreamBus, type JetStreamBus } from '../../../shared/bus/jetstream.ts';
import type { Subscription } from '../../../shared/bus/bus.ts';
import { publisher, type Publish } from '../../../shared/runtime/runtime.ts';
import { parseEvent } from '../../../shared/events/validate.ts';
import { consumedBy } from '../../../shared/http/functions.ts';
import { eventType, type EventName } from '../../../shared/events/types.ts';
import type { JobRef, JobRunner, JobState } from '../../../shared/jobs/runner.ts';
import type { BuilderConfig } from '../../../shared/plan/builder-config.ts';
import type { HttpHandler, HttpRequest, BodyResponse } from '../../../shared/http/types.ts';
import { MemoryLiveLogs } from '../../../shared/bus/live-logs.ts';
import { MemoryDispatchOutcomes } from '../../../shared/bus/dispatch-outcomes.ts';
import { localScm } from '../../../shared/scm/local.ts';
import { systemClock } from '../../../shared/time/clock.ts';
import { ForgeEndpoints } from '../../../shared/scm/endpoints.ts';
import { getPipeline } from '../../../shared/db/pipelines.ts';
import { listBuilds, type Build } from '../../../shared/db/builds.ts';
import { listReleases, type Release } from '../../../shared/db/releases.ts';
import type { AuthSettings } from '../../../shared/auth/settings.ts';
import { makeHandler as makeDispatch } from '../../../functions/build-dispatch/handler.ts';
import type { DispatchDeps, DispatchEvent } from '../../../functions/build-dispatch/deps.ts';
import { makeHandler as makeLogIngest } from '../../../functions/log-ingest/handler.ts';
import { makeHandler as makeQueryApi } from '../../../functions/query-api/handler.ts';
import { tempRepo, type TempRepo } from '../../support/git-repo.ts';
import { recordingLogger, silentLogger } from '../../support/logger.ts';
import { uniqueName } from '../../support/services.ts';
import { waitFor } from '../../support/processes.ts';
import type { TestDatabase } from '../db/database.ts';

export const JWT_KEY = 'scheduling-test-jwt-key';

/** What the simulated builders do once started. */
export type RunMode = { kind: 'hold' } | { kind: 'auto'; ms: number };

interface Run {
  ref: JobRef;
  token: string;
  state: JobState;
  canceled: boolean;
  release: () => void;
}

/**
 * A JobRunner standing in for Kubernetes: one "builder" per job that reports to log-ingest.
 * start is idempotent per job (as a Job name is); cancel makes the builder report `canceled`.
 */
export class SimulatedRunner implements JobRunner {
  readonly name = 'simulated';
  /** Every start call, in order (repeats included). */
  readonly startCalls: string[] = [];
  /** Every builder that actually ran, in start order. */
  readonly ran: string[] = [];
  readonly canceled: string[] = [];
  mode: RunMode = { kind: 'auto', ms: 150 };
  private readonly runs = new Map<string, Run>();
  private pending: Promise<unknown>[] = [];

  constructor(private readonly ingest: () => HttpHandler) {}

  async start(ref: JobRef, config: BuilderConfig): Promise<void> {
    const key = `${ref.kind}/${ref.id}`;
    this.startCalls.push(key);
    if (this.runs.has(key)) return;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const run: Run = { ref, token: config.ingest.token, state: 'running', canceled: false, release };
    this.runs.set(key, run);
    this.ran.push(key);
    this.pending.push(this.play(run, released));
  }

  private async play(run: Run, released: Promise<void>): Promise<void> {
    await this.report(run, 'running');
    if (this.mode.kind === 'auto') await Promise.race([new Promise((r) => setTimeout(r, (this.mode as { ms: number }).ms)), released]);
    else await released;
    await this.report(run, run.canceled ? 'canceled' : 'succeeded');
    run.state = run.canceled ? 'failed' : 'succeeded';
  }

  private async report(run: Run, status: string): Promise<void> {
    const path = `/api/ingest/${run.ref.kind}s/${run.ref.id}/status`;
    const req: HttpRequest = {
      method: 'POST',
      path,
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${run.token}`, 'content-type': 'application/json' },
      rawBody: Buffer.from(JSON.stringify({ status })),
      signal: new AbortController().signal,
    };
    try {
      await this.ingest()(req);
    } catch {
      // e.g. 409 when the job was already ended by the system: what a real builder shrugs off too
    }
  }

  /** Lets held builders (all, or one) finish. */
  releaseHeld(key?: string): void {
    for (const [k, r] of this.runs) if (!key || k === key) r.release();
  }

  async cancel(ref: JobRef): Promise<void> {
    const run = this.runs.get(`${ref.kind}/${ref.id}`);
    this.canceled.push(`${ref.kind}/${ref.id}`);
    if (!run || run.state !== 'running') return;
    run.canceled = true;
    run.release();
  }

  async state(ref: JobRef): Promise<JobState> {
    return this.runs.get(`${ref.kind}/${ref.id}`)?.state ?? 'missing';
  }

  /** Waits for every builder started so far to have reported its end. */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
  }

  async close(): Promise<void> {
    this.releaseHeld();
    await this.settle();
  }
}

/** A pushable repository of the harness. */
export interface Repo {
  name: string;
  ref: { repoSource: string; repoOwner: string; repoName: string };
  git: TempRepo;
  /** Commits `files` on `branch` (a new branch starts from the current head) and publishes its git.push; returns the revision. */
  push(branch?: string, files?: Record<string, string>, extra?: { before?: string; changedFiles?: string[] }): Promise<string>;
  builds(): Promise<Build[]>;
  releases(): Promise<Release[]>;
}

export interface HarnessOptions {
  maxRunningBuilds?: number;
  auth?: AuthSettings;
  now?: () => Date;
  admittedStartGraceMs?: number;
}

export class SchedulingHarness {
  readonly logs: string[] = [];
  readonly runner: SimulatedRunner;
  readonly publish: Publish;
  readonly outcomes = new MemoryDispatchOutcomes();
  private readonly subs: Subscription[] = [];
  private readonly repos: TempRepo[] = [];
  private readonly liveLogs = new MemoryLiveLogs();
  readonly logIngest: HttpHandler;
  readonly queryApi: HttpHandler;
  /** Events seen on the bus by an observer, in arrival order. */
  readonly seen: Array<{ name: EventName; id: string; data: Record<string, unknown> }> = [];
  private pushes = 0;

  private constructor(
    readonly db: TestDatabase,
    readonly bus: JetStreamBus,
    private readonly natsUrl: string,
    private readonly names: { stream: string; deadLetterStream: string },
    readonly options: HarnessOptions,
  ) {
    this.publish = publisher(bus, '/test/scheduling');
    this.runner = new SimulatedRunner(() => this.logIngest);
    this.logIngest = makeLogIngest({ pool: db.pool, liveLogs: this.liveLogs, publish: publisher(bus, '/test/log-ingest'), jwtKey: JWT_KEY, log: silentLogger });
    this.queryApi = makeQueryApi({ pool: db.pool, liveLogs: this.liveLogs, publish: publisher(bus, '/test/query-api'), auth: options.auth ?? { enabled: false }, log: silentLogger });
  }

  /** A harness on `db` with its own JetStream stream on `natsUrl`. */
  static async start(db: TestDatabase, natsUrl: string, options: HarnessOptions = {}): Promise<SchedulingHarness> {
    const name = uniqueName('SCHED');
    const names = { stream: `${name}_EV`, deadLetterStream: `${name}_DLQ`, subjectPrefix: `${name}.` };
    const bus = await connectJetStreamBus({ url: natsUrl, ...names, log: silentLogger });
    const h = new SchedulingHarness(db, bus, natsUrl, names, options);
    h.subs.push(
      await bus.subscribe(
        'observer',
        ['build.finished', 'release.finished', 'queue.advance'].map((t) => eventType(t as EventName)),
        async (ce) => {
          const e = parseEvent(ce);
          h.seen.push({ name: e.name, id: e.id, data: e.data as unknown as Record<string, unknown> });
        },
      ),
    );
    return h;
  }

  /** The deps of one build-dispatch instance. */
  dispatchDeps(overrides: Partial<DispatchDeps> = {}): DispatchDeps {
    return {
      pool: this.db.pool,
      scm: localScm,
      forges: new ForgeEndpoints({ hosts: {}, timeoutMs: 1000 }),
      runner: this.runner,
      publish: publisher(this.bus, '/test/build-dispatch'),
      settings: {
        jwtKey: JWT_KEY,
        logIngestUrl: 'http://log-ingest',
        baseUrl: 'http://ci.example.com',
        executor: 'host',
        maxChainDepth: 5,
        manifestAttempts: 3,
        statusContext: 'estafette',
        maxRunningBuilds: this.options.maxRunningBuilds ?? 0,
        ...(this.options.admittedStartGraceMs ? { admittedStartGraceMs: this.options.admittedStartGraceMs } : {}),
      },
      log: recordingLogger(this.logs),
      outcomes: this.outcomes,
      ...(this.options.now ? { clock: { now: () => this.options.now!().getTime(), setTimer: systemClock.setTimer } } : {}),
      ...overrides,
    };
  }

  /** Starts one build-dispatch instance consuming its event types from the bus; returns its subscription. */
  async addDispatch(overrides: Partial<DispatchDeps> = {}): Promise<Subscription> {
    const handler = makeDispatch(this.dispatchDeps(overrides));
    const sub = await this.bus.subscribe('build-dispatch', consumedBy('build-dispatch'), async (ce) => handler(parseEvent(ce) as DispatchEvent), { backoffMs: [50, 200] });
    this.subs.push(sub);
    return sub;
  }

  /** A repository `base` (made unique) whose `.estafette.yaml` is `manifest`. */
  repo(base: string, manifest: string, files: Record<string, string> = {}): Repo {
    const name = `${base}-${Math.random().toString(36).slice(2, 8)}`;
    const git = tempRepo(name, 'main', 'team');
    this.repos.push(git);
    const ref = { repoSource: 'local', repoOwner: 'team', repoName: name };
    git.commit({ '.estafette.yaml': manifest, ...files });
    const pipelineId = async () => (await getPipeline(this.db.pool, ref))?.id;
    return {
      name,
      ref,
      git,
      push: async (branch = 'main', changed = {}, extra = {}) => {
        const { execFileSync } = await import('node:child_process');
        execFileSync('git', ['-C', git.dir, 'checkout', '-q', '-B', branch]);
        const rev = git.commit(changed, `change ${this.pushes}`);
        const id = `push-${name}-${this.pushes++}`;
        await this.publish('git.push', { forge: 'generic', ...ref, cloneUrl: `file://${git.dir}`, branch, revision: rev, commits: [], pusher: { name: 'dev' }, deliveryId: id, ...extra }, { id });
        return rev;
      },
      builds: async () => {
        const id = await pipelineId();
        return id ? (await listBuilds(this.db.pool, { pipelineId: id, size: 100 })).items.sort((a, b) => a.buildNumber - b.buildNumber) : [];
      },
      releases: async () => {
        const id = await pipelineId();
        return id ? (await listReleases(this.db.pool, { pipelineId: id, size: 100 })).items.reverse() : [];
      },
    };
  }

  /** Calls query-api; `headers` carry a session (cookie or bearer). */
  async api<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
    const [p, q] = path.split('?');
    const req: HttpRequest = {
      method,
      path: p!,
      query: new URLSearchParams(q ?? ''),
      headers: { 'content-type': 'application/json', 'x-requested-with': 'test', ...headers },
      rawBody: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
      signal: new AbortController().signal,
    };
    try {
      const res = (await this.queryApi(req)) as BodyResponse;
      return { status: res.status, body: res.body as T };
    } catch (err) {
      const e = err as { status?: number; message: string };
      if (typeof e.status !== 'number') throw err;
      return { status: e.status, body: { status: e.status, message: e.message } as T };
    }
  }

  /** Waits until `check` holds (60 s by default: a generous bound, the machine may be shared). */
  until<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
    return waitFor(what, check, timeoutMs, 25);
  }

  async stop(): Promise<void> {
    await this.runner.close();
    for (const s of this.subs.splice(0)) await s.stop();
    await this.bus.close();
    const nc = await connect({ servers: this.natsUrl });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(this.names.stream).catch(() => {});
    await jsm.streams.delete(this.names.deadLetterStream).catch(() => {});
    await nc.close();
    for (const r of this.repos) r.remove();
  }
}

/** True when no two [startedAt, finishedAt] intervals of `runs` overlap. */
export function neverOverlap(runs: Array<{ startedAt: string | null; finishedAt: string | null }>): boolean {
  const iv = runs.map((r) => [Date.parse(r.startedAt!), Date.parse(r.finishedAt!)] as const).sort((a, b) => a[0] - b[0]);
  return iv.every(([s, f], i) => !Number.isNaN(s) && !Number.isNaN(f) && (i === 0 || s >= iv[i - 1]![1]));
}
