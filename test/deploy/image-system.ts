/**
 * The images of the system and how each one runs, for the container checks
 * (test/deploy/containers.test.ts) and the image figures (bench/images.ts): the targets of the
 * Dockerfile built by docker/build-images.sh as `estafette-<target>:local` from the base images
 * its build args default to (docker/base-images.sh), and each function's container as
 * knative/base renders it — its env sources, its security context, its probe — plus what
 * Knative and the SinkBinding set (PORT, K_SERVICE, K_CONFIGURATION, K_REVISION, K_SINK).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTION_NAMES, type FunctionName } from '../../shared/http/functions.ts';
import { at, ofKind, renderedObjects, ROOT, type K8sObject, type Located } from './documents.ts';
import { hasImage, type ContainerSpec, type EnvSources } from './knative-container.ts';

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

/** Builds every target (cached layers make a rebuild of unchanged bundles take seconds). */
export function buildImages(targets: readonly Target[] = TARGETS): void {
  execFileSync('bash', [join(ROOT, 'docker/build-images.sh'), ...targets], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, IMAGE_TAG } });
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

/** The rendered Job objects of knative/base by name. */
export const jobsOf = (objs: Located[]): Map<string, K8sObject> => new Map(ofKind(objs, 'Job', 'batch').map((j) => [j.metadata.name, j]));

/** Image size in bytes. */
export const imageBytes = (image: string): number => Number(execFileSync('docker', ['image', 'inspect', '-f', '{{.Size}}', image], { encoding: 'utf8' }).trim());
