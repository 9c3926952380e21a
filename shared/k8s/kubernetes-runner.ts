/**
 * The kubernetes JobRunner: runs each build as a Job through `@kubernetes/client-node`.
 * start = create the Job, then the config Secret owned by it (the pod waits for the Secret
 * volume); a 409 AlreadyExists on either is success, so a redelivered event never starts a
 * second build. cancel = delete the Job with background propagation (its pod gets SIGTERM and
 * the builder reports `canceled`; the Secret goes with the Job). The rights this needs are
 * REQUIRED_RBAC in rbac.ts.
 */
import { ApiException, BatchV1Api, CoreV1Api, KubeConfig, type V1Job } from '@kubernetes/client-node';
import type { BuilderConfig } from '../plan/builder-config.ts';
import type { JobRef, JobRunner, JobState } from '../jobs/runner.ts';
import { buildConfigSecret, buildJob, DEFAULT_JOB_SPEC_OPTIONS, type JobSpecOptions } from './job-spec.ts';
import { jobName, LABELS } from './names.ts';

const isStatus = (err: unknown, code: number): boolean => err instanceof ApiException && err.code === code;

/** Job state from its status: Complete → succeeded, Failed (e.g. deadline) → failed. */
function jobState(job: V1Job): JobState {
  const conds = job.status?.conditions ?? [];
  if (conds.some((c) => c.type === 'Failed' && c.status === 'True') || (job.status?.failed ?? 0) > 0) return 'failed';
  if (conds.some((c) => c.type === 'Complete' && c.status === 'True') || (job.status?.succeeded ?? 0) > 0) return 'succeeded';
  return 'running';
}

export class KubernetesJobRunner implements JobRunner {
  readonly name = 'kubernetes';
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;
  private readonly options: JobSpecOptions;

  constructor(kubeConfig: KubeConfig, options: Partial<JobSpecOptions> = {}) {
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.options = { ...DEFAULT_JOB_SPEC_OPTIONS, ...options };
  }

  /** A runner for the cluster the process runs in, or the one KUBECONFIG names. */
  static fromDefault(options: Partial<JobSpecOptions> = {}): KubernetesJobRunner {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubernetesJobRunner(kc, options);
  }

  async start(ref: JobRef, config: BuilderConfig): Promise<void> {
    const namespace = this.options.namespace;
    const name = jobName(ref);
    let job: V1Job;
    try {
      job = await this.batch.createNamespacedJob({ namespace, body: buildJob(ref, config, this.options) });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
      job = await this.batch.readNamespacedJob({ name, namespace });
    }
    const uid = job.metadata?.uid;
    if (!uid) throw new Error(`job ${name} has no uid`);
    try {
      await this.core.createNamespacedSecret({ namespace, body: buildConfigSecret(ref, config, { name, uid }, this.options) });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
  }

  async cancel(ref: JobRef): Promise<void> {
    try {
      await this.batch.deleteNamespacedJob({ name: jobName(ref), namespace: this.options.namespace, propagationPolicy: 'Background' });
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  async state(ref: JobRef): Promise<JobState> {
    try {
      return jobState(await this.batch.readNamespacedJob({ name: jobName(ref), namespace: this.options.namespace }));
    } catch (err) {
      if (isStatus(err, 404)) return 'missing';
      throw err;
    }
  }

  /** States of every run's Job in the namespace, keyed `<kind>/<id>` (one call for housekeeping). */
  async states(): Promise<Map<string, JobState>> {
    const list = await this.batch.listNamespacedJob({ namespace: this.options.namespace, labelSelector: `${LABELS.app}=estafette` });
    const out = new Map<string, JobState>();
    for (const job of list.items) {
      const labels = job.metadata?.labels ?? {};
      out.set(`${labels[LABELS.kind]}/${labels[LABELS.id]}`, jobState(job));
    }
    return out;
  }

  async close(): Promise<void> {}
}
