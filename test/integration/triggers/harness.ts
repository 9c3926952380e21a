/**
 * A real build-dispatch for trigger and cron tests: migrated PostgreSQL, file:// repositories
 * read with localScm, the kubernetes JobRunner against FakeKubeApi, and a `publish` that records
 * every event and queues it so `drain()` can feed it back into the handler — the bus, with its
 * at-least-once delivery, reduced to a list (or forwards it to a real bus). `finish()` plays
 * log-ingest: it moves a build to a final status and delivers build.finished.
 */
import { makeHandler, type DispatchHandler } from '../../../functions/build-dispatch/handler.ts';
import type { DispatchDeps, DispatchEvent } from '../../../functions/build-dispatch/deps.ts';
import { localScm } from '../../../shared/scm/local.ts';
import { ForgeEndpoints } from '../../../shared/scm/endpoints.ts';
import { KubernetesJobRunner } from '../../../shared/k8s/kubernetes-runner.ts';
import { getPipeline, type Pipeline } from '../../../shared/db/pipelines.ts';
import { getBuild, listBuilds, transitionBuildStatus, type Build } from '../../../shared/db/builds.ts';
import type { EventName, EventPayloads, GitPushData } from '../../../shared/events/types.ts';
import type { JobStatus } from '../../../shared/status/status.ts';
import { FakeKubeApi } from '../../support/fake-kube-api.ts';
import { tempRepo, type TempRepo } from '../../support/git-repo.ts';
import type { TestDatabase } from '../db/database.ts';
import { recordingLogger } from '../../support/logger.ts';

export type Published = { [N in EventName]: { name: N; id: string; data: EventPayloads[N] } }[EventName];

export const JOB_NAMESPACE = 'jobs';

/** A repository with a manifest, pushable. */
export interface Repo {
  name: string;
  /** `local/team/<name>`, the pipeline's full name. */
  full: string;
  ref: { repoSource: string; repoOwner: string; repoName: string };
  git: TempRepo;
  /** Commits `files` (default: nothing new) and delivers a git.push of `branch`; returns the revision. */
  push(branch?: string, files?: Record<string, string>): Promise<string>;
  pipeline(): Promise<Pipeline>;
  builds(): Promise<Build[]>;
}

export class DispatchHarness {
  readonly published: Published[] = [];
  readonly logs: string[] = [];
  readonly deps: DispatchDeps;
  readonly handler: DispatchHandler;
  private queue: Published[] = [];
  private repos: TempRepo[] = [];
  private pushes = 0;

  private constructor(
    readonly db: TestDatabase,
    readonly api: FakeKubeApi,
    maxChainDepth: number,
    forward?: DispatchDeps['publish'],
  ) {
    this.deps = {
      pool: db.pool,
      scm: localScm,
      forges: new ForgeEndpoints({ hosts: {}, timeoutMs: 1000 }),
      runner: new KubernetesJobRunner(this.api.kubeConfig(), { namespace: JOB_NAMESPACE }),
      publish: async (name, data, opts) => {
        const e = { name, id: opts?.id ?? `anon-${this.published.length}`, data } as Published;
        this.published.push(e);
        if (forward) await forward(name, data, opts);
        else this.queue.push(e);
      },
      settings: { jwtKey: 'test-jwt-key', logIngestUrl: 'http://log-ingest', baseUrl: 'http://ci.example.com', executor: 'docker', maxChainDepth, manifestAttempts: 3, statusContext: 'estafette' },
      log: recordingLogger(this.logs),
    };
    this.handler = makeHandler(this.deps);
  }

  /**
   * A harness on `db` with its own fake Kubernetes API server. With `forward`, published events
   * are recorded and handed to it (a real bus) instead of being queued for drain().
   */
  static async start(db: TestDatabase, maxChainDepth = 5, forward?: DispatchDeps['publish']): Promise<DispatchHarness> {
    return new DispatchHarness(db, await new FakeKubeApi().start(), maxChainDepth, forward);
  }

  async stop(): Promise<void> {
    await this.api.stop();
    for (const r of this.repos) r.remove();
  }

  /** A new repository `name` (made unique) with `.estafette.yaml` = manifest (`{{self}}` → its full name, `{{name}}` → its name). */
  repo(base: string, manifest: string): Repo {
    const name = `${base}-${Math.random().toString(36).slice(2, 8)}`;
    const git = tempRepo(name, 'main', 'team');
    this.repos.push(git);
    const ref = { repoSource: 'local', repoOwner: 'team', repoName: name };
    const full = `local/team/${name}`;
    git.commit({ '.estafette.yaml': manifest.replaceAll('{{self}}', full) });
    const self: Repo = {
      name,
      full,
      ref,
      git,
      push: async (branch = 'main', files = {}) => {
        const rev = git.commit(files);
        const id = `push-${name}-${branch}-${this.pushes++}`;
        const data: GitPushData = { forge: 'generic', ...ref, cloneUrl: `file://${git.dir}`, branch, revision: rev, commits: [], pusher: { name: 'dev' }, deliveryId: id };
        await this.handler({ name: 'git.push', id, data });
        return rev;
      },
      pipeline: async () => (await getPipeline(this.db.pool, ref))!,
      builds: async () => {
        const p = await getPipeline(this.db.pool, ref);
        return p ? (await listBuilds(this.db.pool, { pipelineId: p.id, size: 100 })).items : [];
      },
    };
    return self;
  }

  /** Events published and not yet delivered, taken off the queue. */
  take(): Published[] {
    const q = this.queue;
    this.queue = [];
    return q;
  }

  /** Delivers queued events to the handler in order (new ones too) until none is left; returns them. */
  async drain(filter: (e: Published) => boolean = () => true): Promise<Published[]> {
    const delivered: Published[] = [];
    for (let e = this.queue.shift(); e; e = this.queue.shift()) {
      if (!filter(e)) continue;
      delivered.push(e);
      await this.handler(e as DispatchEvent);
    }
    return delivered;
  }

  /** Moves a build through running to `status` and delivers its build.finished (`times` times, same id). */
  async finish(buildId: string, status: JobStatus = 'succeeded', times = 1): Promise<void> {
    await transitionBuildStatus(this.db.pool, buildId, 'running');
    const b = await transitionBuildStatus(this.db.pool, buildId, status);
    const event: DispatchEvent = {
      name: 'build.finished',
      id: `finished-${b.id}`,
      data: { ...b, buildId: b.id, branch: b.repoBranch, revision: b.repoRevision, version: b.buildVersion, status: b.buildStatus, chainDepth: b.chainDepth },
    };
    for (let i = 0; i < times; i++) await this.handler(event);
  }

  /** The build with this id. */
  async build(id: string): Promise<Build> {
    return (await getBuild(this.db.pool, id))!;
  }

  /** The builder config of the newest Secret created for job `id`. */
  builderConfig(id: string): { plan: { estafetteEnv: Record<string, string>; version: string } } {
    const secret = this.api.requests.filter((r) => r.resource === 'secrets' && r.verb === 'create' && r.body.metadata.labels['estafette.io/job-id'] === id).pop();
    if (!secret) throw new Error(`no Secret created for job ${id}`);
    return JSON.parse(secret.body.stringData['builder-config.json']);
  }
}
