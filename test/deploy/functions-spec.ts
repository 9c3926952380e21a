/**
 * knative/functions.json, typed and checked on load: the one description of the deployable
 * functions (kind, events consumed and emitted, scaling) that the manifests are compared with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './documents.ts';

/** One function of knative/functions.json. */
export interface FunctionSpec {
  name: string;
  kind: 'http' | 'cloudevents';
  /** Event names (without the `ci.estafette.` prefix) delivered to it by Triggers. */
  consumes: string[];
  /** Full CloudEvent types from outside the system delivered to it (the PingSource's). */
  externalTypes: string[];
  emits: string[];
  concurrencyTarget: number;
  containerConcurrency: number;
  maxScale: number;
  timeoutSeconds: number;
  note: string;
}

export interface FunctionsFile {
  eventPrefix: string;
  functions: FunctionSpec[];
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isCount = (v: unknown, min: number): v is number => Number.isInteger(v) && (v as number) >= min;

/** Reads and checks knative/functions.json; throws naming the first bad field. */
export function loadFunctionsFile(path = join(ROOT, 'knative/functions.json')): FunctionsFile {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { eventPrefix?: unknown; functions?: unknown };
  if (typeof raw.eventPrefix !== 'string') throw new Error('functions.json: eventPrefix must be a string');
  if (!Array.isArray(raw.functions)) throw new Error('functions.json: functions must be an array');
  raw.functions.forEach((f: Record<string, unknown>, i: number) => {
    const where = `functions.json: functions[${i}]`;
    if (typeof f.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(f.name)) throw new Error(`${where}.name must be a DNS label`);
    if (f.kind !== 'http' && f.kind !== 'cloudevents') throw new Error(`${where}.kind must be http or cloudevents`);
    for (const k of ['consumes', 'externalTypes', 'emits']) if (!isStrings(f[k])) throw new Error(`${where}.${k} must be an array of strings`);
    if (!isCount(f.concurrencyTarget, 1)) throw new Error(`${where}.concurrencyTarget must be an integer ≥ 1`);
    if (!isCount(f.containerConcurrency, 0)) throw new Error(`${where}.containerConcurrency must be an integer ≥ 0`);
    if (!isCount(f.maxScale, 1)) throw new Error(`${where}.maxScale must be an integer ≥ 1`);
    // Knative's default max-revision-timeout-seconds is 600.
    if (!isCount(f.timeoutSeconds, 1) || (f.timeoutSeconds as number) > 600) throw new Error(`${where}.timeoutSeconds must be from 1 to 600`);
    if (typeof f.note !== 'string') throw new Error(`${where}.note must be a string`);
  });
  return raw as FunctionsFile;
}

/** The full CloudEvent types a function's Triggers deliver: its consumed events, then external types. */
export const deliveredTypes = (file: FunctionsFile, f: FunctionSpec): string[] => [...f.consumes.map((n) => file.eventPrefix + n), ...f.externalTypes];
