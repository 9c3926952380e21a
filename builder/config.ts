/**
 * Validates the builder config (BUILDER_CONFIG_PATH) at the edge. The file is written by the job
 * runner, but a Plan is big and versions of the builder and the dispatcher can differ, so every
 * field the builder relies on is checked and a problem is named by its path.
 */
import { ValidationError } from '../shared/errors/http-error.ts';
import { isRefName, isRevision, refForMessage } from '../shared/git/ref-name.ts';
import { isExecutorName, type BuilderConfig } from '../shared/plan/builder-config.ts';
import { PLAN_KINDS } from '../shared/plan/types.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  problems: string[] = [];
  obj(v: unknown, path: string): Obj {
    if (isObj(v)) return v;
    this.problems.push(`${path} must be an object`);
    return {};
  }
  str(o: Obj, k: string, path: string, optional = false): void {
    if (optional && o[k] === undefined) return;
    if (typeof o[k] !== 'string') this.problems.push(`${path}.${k} must be a string`);
  }
  bool(o: Obj, k: string, path: string): void {
    if (typeof o[k] !== 'boolean') this.problems.push(`${path}.${k} must be a boolean`);
  }
  num(o: Obj, k: string, path: string, optional = false): void {
    if (optional && o[k] === undefined) return;
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k]) || (o[k] as number) < 0) this.problems.push(`${path}.${k} must be a non-negative number`);
  }
  strings(o: Obj, k: string, path: string): void {
    const v = o[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) this.problems.push(`${path}.${k} must be a list of strings`);
  }
  env(o: Obj, k: string, path: string): void {
    const v = o[k];
    if (!isObj(v) || Object.values(v).some((x) => typeof x !== 'string')) this.problems.push(`${path}.${k} must map names to strings`);
  }
  list(o: Obj, k: string, path: string): unknown[] {
    if (Array.isArray(o[k])) return o[k] as unknown[];
    this.problems.push(`${path}.${k} must be a list`);
    return [];
  }
}

function checkReadiness(c: Checker, v: unknown, path: string): void {
  if (v === undefined) return;
  const r = c.obj(v, path);
  if (r.kind === 'http') {
    c.str(r, 'host', path);
    c.str(r, 'path', path);
    c.num(r, 'port', path);
  } else if (r.kind === 'exec') c.strings(r, 'command', path);
  else c.problems.push(`${path}.kind must be 'http' or 'exec'`);
  c.num(r, 'timeoutSeconds', path);
}

function checkStage(c: Checker, v: unknown, path: string, depth: number): void {
  const s = c.obj(v, path);
  for (const k of ['name', 'image', 'shell', 'workDir', 'when']) c.str(s, k, path);
  c.strings(s, 'commands', path);
  c.env(s, 'env', path);
  c.num(s, 'retries', path);
  c.num(s, 'timeoutSeconds', path, true);
  const children = c.list(s, 'parallelStages', path);
  if (depth > 0 && children.length > 0) c.problems.push(`${path}.parallelStages: only one level of parallel stages is allowed`);
  else children.forEach((x, i) => checkStage(c, x, `${path}.parallelStages[${i}]`, depth + 1));
  c.list(s, 'services', path).forEach((x, i) => {
    const p = `${path}.services[${i}]`;
    const svc = c.obj(x, p);
    for (const k of ['name', 'image', 'shell', 'when']) c.str(svc, k, p);
    c.strings(svc, 'commands', p);
    c.env(svc, 'env', p);
    c.bool(svc, 'multiStage', p);
    checkReadiness(c, svc.readiness, `${p}.readiness`);
  });
  if (s.reusedFrom !== undefined) {
    const r = c.obj(s.reusedFrom, `${path}.reusedFrom`);
    c.str(r, 'buildId', `${path}.reusedFrom`);
    c.num(r, 'buildNumber', `${path}.reusedFrom`);
  }
  if (!isObj(s.customProperties)) s.customProperties = {};
}

/** Returns the config when valid; throws ValidationError listing every problem otherwise. */
export function parseBuilderConfig(raw: unknown): BuilderConfig {
  const c = new Checker();
  const root = c.obj(raw, 'config');
  const job = c.obj(root.job, 'job');
  if (!(PLAN_KINDS as readonly unknown[]).includes(job.kind)) c.problems.push(`job.kind must be one of ${PLAN_KINDS.join(', ')}`);
  c.str(job, 'id', 'job');
  const ingest = c.obj(root.ingest, 'ingest');
  c.str(ingest, 'url', 'ingest');
  c.str(ingest, 'token', 'ingest');
  const git = c.obj(root.git, 'git');
  for (const k of ['cloneUrl', 'branch', 'revision']) c.str(git, k, 'git');
  c.bool(git, 'clone', 'git');
  // They reach git commands: git's ref-name rules (an option-like `--upload-pack=…` is refused here).
  if (typeof git.branch === 'string' && git.branch !== '' && !isRefName(git.branch)) c.problems.push(`git.branch is not a valid git ref name: ${refForMessage(git.branch)}`);
  if (typeof git.revision === 'string' && git.revision !== '' && !isRevision(git.revision)) c.problems.push(`git.revision is not a valid git revision: ${refForMessage(git.revision)}`);
  if (!isExecutorName(root.executor)) c.problems.push(`executor must be 'host' or 'docker'`);
  c.str(root, 'workDir', 'config');
  c.num(root, 'cancelGraceSeconds', 'config', true);
  c.num(root, 'heartbeatSeconds', 'config', true);
  c.str(root, 'removeOnExit', 'config', true);
  c.str(root, 'traceparent', 'config', true);
  if (root.secrets !== undefined) {
    const secrets = c.obj(root.secrets, 'secrets');
    c.env(secrets, 'values', 'secrets');
    c.str(secrets, 'refused', 'secrets', true);
  }
  const plan = c.obj(root.plan, 'plan');
  for (const k of ['repoSource', 'repoOwner', 'repoName', 'branch', 'revision', 'version']) c.str(plan, k, 'plan');
  c.env(plan, 'estafetteEnv', 'plan');
  c.list(plan, 'stages', 'plan').forEach((x, i) => checkStage(c, x, `plan.stages[${i}]`, 0));
  if (c.problems.length > 0) throw new ValidationError(`invalid builder config: ${c.problems.slice(0, 10).join('; ')}`, c.problems);
  return raw as BuilderConfig;
}

/** The ingest coordinates of a config that did not validate, when they are usable for reporting. */
export function ingestOf(raw: unknown): { url: string; token: string; kind: 'build' | 'release' | 'bot'; id: string } | undefined {
  if (!isObj(raw) || !isObj(raw.ingest) || !isObj(raw.job)) return undefined;
  const { url, token } = raw.ingest;
  const { kind, id } = raw.job;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url) || typeof token !== 'string' || typeof id !== 'string' || id === '') return undefined;
  if (kind !== 'build' && kind !== 'release' && kind !== 'bot') return undefined;
  return { url, token, kind, id };
}
