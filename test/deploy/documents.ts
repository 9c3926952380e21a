/**
 * The Kubernetes objects under knative/, as the deploy specs see them: every YAML document of every
 * raw file, and the output of `kubectl kustomize` for the base and each overlay. Each object carries
 * where it came from, so a failing check names the file or render.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';

/** Repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const KNATIVE_DIR = join(ROOT, 'knative');
export const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';

let kubectlWarned = false;

/**
 * Skips the current test or suite with one loud line when kubectl is not installed (it is not a
 * service CI could start, and the raw-file checks still run without it). Call with mocha's `this`.
 */
export function requireKubectl(ctx: Mocha.Context): void {
  try {
    accessSync(KUBECTL, constants.X_OK);
  } catch {
    if (!kubectlWarned) console.warn(`\n  !!! SKIPPED: ${KUBECTL} not found — kustomize renders are not checked (set KUBECTL to its path) !!!\n`);
    kubectlWarned = true;
    ctx.skip();
  }
}

/** The kustomizations that must render: the root, the base and the overlays (dev-watch: skaffold dev's). */
export const KUSTOMIZATIONS = ['knative', 'knative/base', 'knative/overlays/dev', 'knative/overlays/dev-watch', 'knative/overlays/production'] as const;

/** A Kubernetes object as plain data. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** An object and its origin (`knative/base/services.yaml#2` or `kustomize knative/overlays/dev#5`). */
export interface Located {
  origin: string;
  object: K8sObject;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses a multi-document YAML text; empty documents are dropped, a non-object one throws. */
export function parseDocuments(text: string, origin: string): Located[] {
  const docs = loadAll(text) as unknown[];
  const out: Located[] = [];
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    if (!isObject(doc) || typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string' || !isObject(doc.metadata)) {
      throw new Error(`${origin}#${i}: not a Kubernetes object (apiVersion, kind and metadata are required)`);
    }
    out.push({ origin: `${origin}#${i}`, object: doc as K8sObject });
  });
  return out;
}

/** Every *.yaml file under knative/, relative to the repository root, sorted. */
export function yamlFiles(dir = KNATIVE_DIR): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(entry)) out.push(relative(ROOT, path));
  }
  return out.sort();
}

/**
 * The objects of every raw YAML file under knative/ except kustomization.yaml files (kustomize's own
 * config, not objects for the cluster). Overlay patch files are partial objects of a known kind and
 * are included: they must still be valid objects.
 */
export function rawObjects(): Located[] {
  return yamlFiles()
    .filter((f) => !/(^|\/)kustomization\.ya?ml$/.test(f))
    .flatMap((f) => parseDocuments(readFileSync(join(ROOT, f), 'utf8'), f));
}

/** `kubectl kustomize <dir>` (dir relative to the root); throws with kubectl's message when it fails. */
export function renderKustomization(dir: string): string {
  try {
    return execFileSync(KUBECTL, ['kustomize', join(ROOT, dir)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`kubectl kustomize ${dir} failed: ${stderr.trim() || (err as Error).message}`);
  }
}

const renders = new Map<string, Located[]>();

/** The objects `kubectl kustomize <dir>` renders (cached per run: kubectl takes ~100 ms). */
export function renderedObjects(dir: string): Located[] {
  let objs = renders.get(dir);
  if (!objs) {
    objs = parseDocuments(renderKustomization(dir), `kustomize ${dir}`);
    renders.set(dir, objs);
  }
  return objs;
}

/** Objects of a kind (and API group, when given) among `objs`. */
export function ofKind(objs: Located[], kind: string, group?: string): K8sObject[] {
  return objs.map((l) => l.object).filter((o) => o.kind === kind && (group === undefined || apiGroup(o.apiVersion) === group));
}

/** `apps/v1` → `apps`, `v1` → `` (the core group). */
export const apiGroup = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

/** A field of a nested object by path, or undefined. */
export function at(obj: unknown, ...path: Array<string | number>): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}
