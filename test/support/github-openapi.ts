/**
 * Checks requests against GitHub's published OpenAPI description (npm `@octokit/openapi`,
 * api.github.com): the path matches a documented template, the method exists for it, the
 * required query parameters are there, and a JSON body validates against the operation's
 * request body schema (required fields, types, `state` enums). Only the components a checked
 * operation uses are resolved.
 */
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import type { RecordedRequest } from './fake-forge.ts';

type Json = Record<string, any>;

let spec: Json | undefined;
const load = (): Json => (spec ??= createRequire(import.meta.url)('@octokit/openapi/generated/api.github.com.json') as Json);

/** Replaces `$ref`s into components by what they name (cycles cut at depth 12). */
function resolve(v: unknown, depth = 0): unknown {
  if (depth > 12 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => resolve(x, depth + 1));
  const o = v as Json;
  if (typeof o.$ref === 'string') {
    const target = o.$ref
      .replace(/^#\//, '')
      .split('/')
      .reduce((acc: any, k: string) => acc?.[k], load());
    return resolve(target, depth + 1);
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, resolve(x, depth + 1)]));
}

interface Operation {
  template: string;
  method: string;
  op: Json;
}

/** The documented operation of `method path` (path relative to the API root), or undefined. */
export function findOperation(method: string, path: string): Operation | undefined {
  const paths = load().paths as Record<string, Json>;
  for (const [template, item] of Object.entries(paths)) {
    const op = item[method.toLowerCase()] as Json | undefined;
    if (!op) continue;
    const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => resolve(p) as Json);
    const multi = new Set(params.filter((p) => p.in === 'path' && p['x-multi-segment']).map((p) => p.name as string));
    const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}|\{([^}]+)\}/g, (_m, a, b) => (multi.has(a ?? b) ? '(.+)' : '([^/]+)'))}$`);
    if (re.test(path)) return { template, method, op: { ...op, parameters: params } };
  }
  return undefined;
}

const ajv = new Ajv({ strict: false, allErrors: true });
const validators = new Map<string, ValidateFunction>();

/** Every way `r` (a request the fake GitHub received, API root at `/`) breaks the contract; empty when none. */
export function githubContractProblems(r: RecordedRequest, apiRoot = ''): string[] {
  const path = r.path.slice(apiRoot.length) || '/';
  const found = findOperation(r.method, path);
  if (!found) return [`${r.method} ${path}: no such operation in GitHub's OpenAPI description`];
  const problems: string[] = [];
  for (const p of found.op.parameters as Json[]) {
    if (p.in === 'query' && p.required && !r.query.has(p.name)) problems.push(`${r.method} ${found.template}: required query parameter '${p.name}' missing`);
  }
  const rb = found.op.requestBody as Json | undefined;
  const schema = rb?.content?.['application/json']?.schema;
  if (rb?.required && r.body === undefined) problems.push(`${r.method} ${found.template}: request body required`);
  if (schema && r.body !== undefined) {
    const key = `${found.method} ${found.template}`;
    let v = validators.get(key);
    if (!v) validators.set(key, (v = ajv.compile(resolve(schema) as Json)));
    if (!v(r.body))
      for (const e of v.errors ?? [])
        problems.push(`${r.method} ${found.template}: body${e.instancePath} ${e.message}${e.params && 'allowedValues' in e.params ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : ''}`);
  }
  return problems;
}
