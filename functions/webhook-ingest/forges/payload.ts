/**
 * Small readers for untrusted JSON payloads: they return the value when it has the expected
 * type, or throw a ValidationError naming the field — so adapters stay declarative.
 */
import { ValidationError } from '../../../shared/errors/http-error.ts';

type Json = unknown;

/** The value at a dotted path, or undefined. */
export function at(obj: Json, path: string): Json {
  let cur: Json = obj;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, Json>)[key];
  }
  return cur;
}

/** A required non-empty string at `path`. */
export function str(obj: Json, path: string): string {
  const v = at(obj, path);
  if (typeof v !== 'string' || v === '') throw new ValidationError(`payload field '${path}' must be a non-empty string`);
  return v;
}

/** An optional string at `path` ('' when absent). */
export function optStr(obj: Json, path: string): string {
  const v = at(obj, path);
  return typeof v === 'string' ? v : '';
}

/** An array at `path` ([] when absent); throws when present but not an array. */
export function arr(obj: Json, path: string): Json[] {
  const v = at(obj, path);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ValidationError(`payload field '${path}' must be an array`);
  return v;
}
