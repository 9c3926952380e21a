/**
 * Builds the Kubernetes objects of one run as plain data: a `batch/v1` Job running the builder
 * and a Secret holding its BuilderConfig (job token, credentials and the decrypted values of the
 * plan's secrets — never the master key), mounted only into the builder container: the dind
 * sidecar, and so every stage and service container it runs, sees the work dir alone. Pure
 * functions made of small named parts (jobMeta, podSpec, builderContainer, dindSidecar, volumes);
 * only the kubernetes JobRunner sends them.
 * The Job never restarts a build (`restartPolicy: Never`, `backoffLimit: 0`): stage failures are
 * results the builder reports, and the builder exits 0 whenever it reported. The builder runs as
 * the image's unprivileged user (BUILDER_UID) with no capabilities on a read-only root file
 * system; only the docker-in-docker sidecar is privileged. The work dir is an emptyDir, which the
 * kubelet creates owned by root: git would refuse it ("detected dubious ownership"), and fsGroup
 * cannot help (git compares the owner's uid), so the builder image trusts exactly WORK_DIR in its
 * system git config (Dockerfile target `builder`).
 */
import type { V1Job, V1Secret, V1PodSpec, V1Container, V1Volume, V1ObjectMeta, V1Toleration, V1ResourceRequirements } from '@kubernetes/client-node';
import type { BuilderConfig } from '../plan/builder-config.ts';
import type { JobRef } from '../jobs/runner.ts';
import { jobLabels, jobName } from './names.ts';

/** Where the config Secret is mounted in the builder container. */
export const CONFIG_MOUNT_DIR = '/etc/estafette';
const CONFIG_FILE_KEY = 'builder-config.json';
/** The build's work dir (the Dockerfile's builder target trusts this path for git). */
export const WORK_DIR = '/estafette-work';
/** The builder image's user (Dockerfile target `builder`). */
const BUILDER_UID = 1000;

export interface JobSpecOptions {
  namespace: string;
  /** Builder image repository; the tag is the manifest's builder track (pinned per run). */
  builderImageRepository: string;
  /** Explicit images per track (e.g. a digest for `stable`), overriding repository:track. */
  builderImages: Record<string, string>;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  serviceAccountName: string;
  resources: V1ResourceRequirements;
  nodeSelector: Record<string, string>;
  tolerations: V1Toleration[];
  activeDeadlineSeconds: number;
  ttlSecondsAfterFinished: number;
  /** Grace period for the builder to stop stages and report `canceled` on delete. */
  terminationGracePeriodSeconds: number;
  /** docker-in-docker sidecar for the docker executor. */
  dind: { image: string; resources: V1ResourceRequirements };
  /** OTLP/HTTP collector the builder exports its spans to (OTEL_EXPORTER_OTLP_ENDPOINT); none when unset. */
  otlpEndpoint?: string;
}

export const DEFAULT_JOB_SPEC_OPTIONS: JobSpecOptions = {
  namespace: 'estafette-jobs',
  builderImageRepository: 'ghcr.io/estafette-knative/builder',
  builderImages: {},
  imagePullPolicy: 'IfNotPresent',
  serviceAccountName: 'estafette-builder',
  resources: { requests: { cpu: '200m', memory: '256Mi' }, limits: { memory: '2Gi' } },
  nodeSelector: {},
  tolerations: [],
  activeDeadlineSeconds: 2 * 60 * 60,
  ttlSecondsAfterFinished: 60 * 60,
  terminationGracePeriodSeconds: 30,
  dind: { image: 'docker:27-dind', resources: { requests: { cpu: '100m', memory: '256Mi' } } },
};

/**
 * How long a job may live, in seconds: the Job's activeDeadlineSeconds plus the grace its builder
 * gets to report after Kubernetes stops it. A job token expires then (functions/build-dispatch/start-job.ts).
 */
export function jobDeadlineSeconds(o: Partial<Record<keyof JobSpecOptions, unknown>> = {}): number {
  const seconds = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d);
  return seconds(o.activeDeadlineSeconds, DEFAULT_JOB_SPEC_OPTIONS.activeDeadlineSeconds) + seconds(o.terminationGracePeriodSeconds, DEFAULT_JOB_SPEC_OPTIONS.terminationGracePeriodSeconds);
}

/** The image of the builder for a track. */
const builderImage = (track: string, o: JobSpecOptions): string => o.builderImages[track] ?? `${o.builderImageRepository}:${track}`;

function jobMeta(ref: JobRef, o: JobSpecOptions): V1ObjectMeta {
  return { name: jobName(ref), namespace: o.namespace, labels: jobLabels(ref) };
}

function builderContainer(config: BuilderConfig, o: JobSpecOptions): V1Container {
  const env = [{ name: 'BUILDER_CONFIG_PATH', value: `${CONFIG_MOUNT_DIR}/${CONFIG_FILE_KEY}` }];
  if (config.executor === 'docker') env.push({ name: 'DOCKER_HOST', value: 'tcp://127.0.0.1:2375' });
  if (o.otlpEndpoint) env.push({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: o.otlpEndpoint });
  return {
    name: 'builder',
    image: builderImage(config.plan.builder.track, o),
    imagePullPolicy: o.imagePullPolicy,
    env,
    resources: o.resources,
    // Writes go to the volumes only: the work dir, /tmp.
    securityContext: {
      runAsUser: BUILDER_UID,
      runAsGroup: BUILDER_UID,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: 'config', mountPath: CONFIG_MOUNT_DIR, readOnly: true },
      { name: 'work', mountPath: WORK_DIR },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
}

/**
 * docker-in-docker as a native sidecar (an init container with restartPolicy Always): it starts
 * before the builder and does not keep the Job alive after the builder exits. It mounts the work
 * dir at the same path so the docker executor's bind mounts resolve inside the engine.
 */
function dindSidecar(o: JobSpecOptions): V1Container {
  return {
    name: 'dind',
    image: o.dind.image,
    restartPolicy: 'Always',
    args: ['--host=tcp://127.0.0.1:2375'],
    env: [{ name: 'DOCKER_TLS_CERTDIR', value: '' }],
    securityContext: { privileged: true },
    resources: o.dind.resources,
    volumeMounts: [{ name: 'work', mountPath: WORK_DIR }],
    startupProbe: { tcpSocket: { port: 2375 }, periodSeconds: 1, failureThreshold: 60 },
  };
}

function volumes(ref: JobRef, config: BuilderConfig): V1Volume[] {
  const medium = config.plan.builder.medium === 'memory' ? 'Memory' : undefined;
  return [
    { name: 'config', secret: { secretName: jobName(ref), items: [{ key: CONFIG_FILE_KEY, path: CONFIG_FILE_KEY }] } },
    { name: 'work', emptyDir: medium ? { medium } : {} },
    { name: 'tmp', emptyDir: {} },
  ];
}

function podSpec(ref: JobRef, config: BuilderConfig, o: JobSpecOptions): V1PodSpec {
  const spec: V1PodSpec = {
    restartPolicy: 'Never',
    serviceAccountName: o.serviceAccountName,
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: o.terminationGracePeriodSeconds,
    containers: [builderContainer(config, o)],
    volumes: volumes(ref, config),
  };
  if (config.executor === 'docker') spec.initContainers = [dindSidecar(o)];
  if (Object.keys(o.nodeSelector).length > 0) spec.nodeSelector = o.nodeSelector;
  if (o.tolerations.length > 0) spec.tolerations = o.tolerations;
  return spec;
}

/** The Job of a run. The builder's config comes from the Secret of the same name. */
export function buildJob(ref: JobRef, config: BuilderConfig, options: Partial<JobSpecOptions> = {}): V1Job {
  const o = { ...DEFAULT_JOB_SPEC_OPTIONS, ...options };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: jobMeta(ref, o),
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: o.activeDeadlineSeconds,
      ttlSecondsAfterFinished: o.ttlSecondsAfterFinished,
      template: { metadata: { labels: jobLabels(ref) }, spec: podSpec(ref, config, o) },
    },
  };
}

/**
 * The Secret holding the builder config, owned by the Job (created first) so that Kubernetes
 * deletes both together when the Job's TTL expires or it is deleted.
 */
export function buildConfigSecret(ref: JobRef, config: BuilderConfig, owner: { name: string; uid: string }, options: Partial<JobSpecOptions> = {}): V1Secret {
  const o = { ...DEFAULT_JOB_SPEC_OPTIONS, ...options };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      ...jobMeta(ref, o),
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: owner.name, uid: owner.uid, blockOwnerDeletion: false, controller: false }],
    },
    stringData: { [CONFIG_FILE_KEY]: JSON.stringify(config) },
  };
}
