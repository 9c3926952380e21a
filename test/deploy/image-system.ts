/**
 * The images of the system and how each one runs, for the container checks
 * (test/deploy/containers.test.ts) and the image figures (bench/images.ts): the targets of the
 * Dockerfile built by docker/build-images.sh as `estafette-<target>:local` from the base images
 * its build args default to (docker/base-images.sh), and each function's container as
 * knative/base renders it — its env sources, its security context, its probe — plus what
 * Knative and the SinkBinding set (PORT, K_SERVICE, K_CONFIGURATION, K_REVISION, K_SINK), on a
 * fresh database, with a Broker stand-in at K_SINK and a Kubernetes API stand-in.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../cli/start/database.ts';
import { migrate } from '../../shared/db/migrate.ts';
import { createPool } from '../../shared/db/pool.ts';
import { FUNCTION_NAMES, type FunctionName } from '../../shared/http/functions.ts';
import { FakeKubeApi } from '../support/fake-kube-api.ts';
import { freshDatabase } from '../support/services.ts';
import { startBrokerStandIn, type BrokerStandIn } from './broker-stand-in.ts';
import { at, ofKind, renderedObjects, ROOT, type K8sObject, type Located } from './documents.ts';
import { hasImage, type ContainerSpec, type EnvSources, type RunOptions } from './knative-container.ts';

/** Every target the images are built from (one per function, the builder, the UI). */
export const TARGETS = [...FUNCTION_NAMES, 'builder', 'frontend'] as const;
export type Target = (typeof TARGETS)[number];

/** The tag docker/build-images.sh gives its images. */
export const IMAGE_TAG = 'local';

/** The local image of a target. */
export const localImage = (target: Target): string => `estafette-${target}:${IMAGE_TAG}`;

/** The Dockerfile's global ARG defaults (the base images among them). */
export function dockerfileArgs(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n')) {
    if (/^FROM\s/i.test(line)) break;
    const m = /^ARG\s+(\w+)=(\S+)/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** The base image each target is built on, by the Dockerfile's defaults. */
export function baseImageOf(target: Target): string {
  const a = dockerfileArgs();
  return target === 'frontend' ? a.NGINX_IMAGE! : target === 'builder' ? a.BUILDER_BASE_IMAGE! : a.NODE_IMAGE!;
}

/** Why the images cannot be built here (a base image missing), or undefined. */
export function baseImagesMissing(): string | undefined {
  const a = dockerfileArgs();
  const missing = ['NODE_IMAGE', 'BUILDER_BASE_IMAGE', 'NGINX_IMAGE'].map((k) => a[k]!).filter((i) => !hasImage(i));
  return missing.length ? `base images ${missing.join(', ')} are not in the engine (bash docker/base-images.sh makes them)` : undefined;
}

/** Builds targets as `estafette-<target>:<tag>` (cached layers make a rebuild of unchanged bundles take seconds). */
export function buildImages(targets: readonly Target[] = TARGETS, o: { tag?: string; buildArgs?: Record<string, string> } = {}): void {
  const buildArgs = Object.entries(o.buildArgs ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  execFileSync('bash', [join(ROOT, 'docker/build-images.sh'), ...targets], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, IMAGE_TAG: o.tag ?? IMAGE_TAG, BUILD_ARGS: buildArgs } });
}

/** A function's Knative Service as rendered: its container and whether the SinkBinding selects it. */
export interface KnativeFunction {
  name: FunctionName | 'frontend';
  container: ContainerSpec;
  emitsEvents: boolean;
  /** The readiness probe's path. */
  probe: string;
}

/** The Knative Services of `dir` (default knative/base) by name. */
export function knativeServices(objs: Located[] = renderedObjects('knative/base')): Map<string, KnativeFunction> {
  const out = new Map<string, KnativeFunction>();
  for (const svc of ofKind(objs, 'Service', 'serving.knative.dev')) {
    const container = at(svc, 'spec', 'template', 'spec', 'containers', 0) as ContainerSpec;
    out.set(svc.metadata.name, {
      name: svc.metadata.name as FunctionName,
      container,
      emitsEvents: svc.metadata.labels?.['estafette.io/emits-events'] === 'true',
      probe: String(at(container, 'readinessProbe', 'httpGet', 'path')),
    });
  }
  return out;
}

/** The rendered ConfigMaps as env sources, with the Secret the caller provides (production creates its own). */
export function envSources(objs: Located[], secrets: Record<string, Record<string, string>>): EnvSources {
  const configMaps: Record<string, Record<string, string>> = {};
  for (const cm of ofKind(objs, 'ConfigMap')) configMaps[cm.metadata.name] = (cm.data ?? {}) as Record<string, string>;
  return { configMaps, secrets };
}

/** What Knative Serving sets in a revision's container, and the SinkBinding's K_SINK. */
export function knativeEnv(name: string, sink: string | undefined): Record<string, string> {
  return { K_SERVICE: name, K_CONFIGURATION: name, K_REVISION: `${name}-00001`, ...(sink ? { K_SINK: sink } : {}) };
}

/** The migration Job of a render. */
export const migrateJob = (objs: Located[]): K8sObject | undefined => ofKind(objs, 'Job', 'batch').find((j) => j.metadata.labels?.['app.kubernetes.io/name'] === 'estafette-migrate');

/** Image size in bytes. */
export const imageBytes = (image: string): number => Number(execFileSync('docker', ['image', 'inspect', '-f', '{{.Size}}', image], { encoding: 'utf8' }).trim());

/** What the function containers share here: the database, the Broker and Kubernetes stand-ins, the Secret. */
export interface FunctionEnvironment {
  objs: Located[];
  services: Map<string, KnativeFunction>;
  dbUrl: string;
  broker: BrokerStandIn;
  kube: FakeKubeApi;
  /** The Secret `estafette-secrets` as an operator creates it (docs/deploy-knative.md). */
  secret: Record<string, string>;
  /** Run options of a function's container: its rendered spec and env, with this machine's addresses. */
  runOptions(name: FunctionName, o?: { containerName?: string; env?: Record<string, string | undefined>; logIngestUrl?: string; githubApiUrl?: string }): Promise<RunOptions>;
  stop(): Promise<void>;
}

/** Sets up what the function containers need, on a fresh database (migrated when `migrate`). */
export async function functionEnvironment(o: { pgServer: string; natsUrl: string; run: string; secret: Record<string, string>; migrate?: boolean }): Promise<FunctionEnvironment> {
  const objs = renderedObjects('knative/base');
  const services = knativeServices(objs);
  const db = await freshDatabase(o.pgServer, 'img');
  if (o.migrate) {
    const pool = createPool(db.url, { max: 1 });
    await migrate(pool);
    await pool.end();
  }
  const broker = await startBrokerStandIn();
  const kube = await new FakeKubeApi().start();
  const kubeDir = mkdtempSync(join(tmpdir(), 'img-kube-'));
  // In the cluster client-node reads the ServiceAccount token; here a kubeconfig names the stand-in.
  writeFileSync(
    join(kubeDir, 'kubeconfig'),
    `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${kube.url}\n    insecure-skip-tls-verify: true\nusers:\n- name: fake\n  user:\n    token: fake\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\ncurrent-context: fake\n`,
    { mode: 0o644 },
  );
  chmodSync(kubeDir, 0o755);
  const secret = { DATABASE_URL: db.url, ...o.secret };
  return {
    objs,
    services,
    dbUrl: db.url,
    broker,
    kube,
    secret,
    async runOptions(name, r = {}) {
      const svc = services.get(name)!;
      const usesKube = ['build-dispatch', 'cron-relay'].includes(name);
      const env: Record<string, string> = {
        ...knativeEnv(name, svc.emitsEvents ? broker.url : undefined),
        // Cluster addresses replaced by this machine's; nothing else differs from the manifest.
        NATS_URL: o.natsUrl,
        ESTAFETTE_BUS_SUBJECT_PREFIX: `${o.run}.`,
        ESTAFETTE_LOG_INGEST_URL: r.logIngestUrl ?? 'http://127.0.0.1:1',
        ...(r.githubApiUrl ? { GITHUB_API_URL: r.githubApiUrl } : {}),
        ...(usesKube ? { KUBECONFIG: '/var/run/estafette/kubeconfig' } : {}),
      };
      const removed = Object.entries(r.env ?? {})
        .filter(([, v]) => v === undefined)
        .map(([k]) => k);
      for (const [k, v] of Object.entries(r.env ?? {})) if (v !== undefined) env[k] = v;
      for (const k of removed) delete env[k];
      const sources = envSources(objs, { 'estafette-secrets': Object.fromEntries(Object.entries(secret).filter(([k]) => !removed.includes(k))) });
      return {
        name: r.containerName ?? `${o.run}-${name}`,
        container: svc.container,
        image: localImage(name),
        port: await freePort(),
        sources,
        env,
        mounts: usesKube ? [`${kubeDir}:/var/run/estafette:ro`] : [],
      };
    },
    async stop() {
      await broker.stop();
      await kube.stop();
      await db.drop();
      rmSync(kubeDir, { recursive: true, force: true });
    },
  };
}
