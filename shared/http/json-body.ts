/**
 * The one JSON body parser of every HTTP edge (webhooks, log-ingest's reports, query-api's POST
 * bodies): a bounded size (413), a JSON content type (415; a request without one is read as
 * JSON), valid JSON (400 naming the parse error) and, with a schema, every problem of the value
 * with its field path (400, `details: [{field, message}]`, as the manifest linter reports them).
 * Schemas are JSON Schema (ajv), declared once beside the edge that reads them, with the
 * TypeScript type they guarantee (`bodySchema<T>(…)`).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { HttpError, ValidationError } from '../errors/http-error.ts';
import type { HttpRequest } from './types.ts';

/** Largest body accepted unless the edge says otherwise. */
const DEFAULT_MAX_JSON_BYTES = 4 * 1024 * 1024;

export interface JsonBodyOptions {
  /** Bodies larger than this are refused with 413. */
  maxBytes: number;
  /** Also accept `application/x-www-form-urlencoded` with the JSON in this field (GitHub's and Gitea's `payload=`). */
  formField?: string;
}

const DEFAULTS: JsonBodyOptions = { maxBytes: DEFAULT_MAX_JSON_BYTES };

/** One problem of a value, at a dotted field path (`lines.3.seq`; '' for the value itself). */
export interface FieldProblem {
  field: string;
  message: string;
}

const FORM = 'application/x-www-form-urlencoded';
const isJsonType = (mediaType: string): boolean => mediaType === 'application/json' || /^application\/[\w.-]+\+json$/.test(mediaType);

/** The request's body as a JSON value; throws HttpError 413/415 or ValidationError 400. */
export function readJson(req: Pick<HttpRequest, 'rawBody' | 'headers'>, options: Partial<JsonBodyOptions> = {}): unknown {
  const o = { ...DEFAULTS, ...options };
  if (req.rawBody.length > o.maxBytes) throw new HttpError(413, `body larger than ${o.maxBytes} bytes`);
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  let text = req.rawBody.toString('utf8');
  if (o.formField && mediaType === FORM) {
    const payload = new URLSearchParams(text).get(o.formField);
    if (payload === null) throw new ValidationError(`form-encoded body has no '${o.formField}' field`);
    text = payload;
  } else if (mediaType !== '' && !isJsonType(mediaType)) {
    throw new HttpError(415, `content-type must be application/json${o.formField ? ` or ${FORM}` : ''}, not ${mediaType.slice(0, 100)}`);
  }
  if (text.trim() === '') throw new ValidationError('body is empty: expected JSON', [{ field: '', message: 'expected JSON' }]);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`body is not valid JSON: ${(err as Error).message.slice(0, 200)}`, [{ field: '', message: 'is not valid JSON' }]);
  }
}

/** The request's body as a JSON object (400 for any other JSON value). */
export function readJsonObject(req: Pick<HttpRequest, 'rawBody' | 'headers'>, options: Partial<JsonBodyOptions> = {}): Record<string, unknown> {
  const v = readJson(req, options);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ValidationError('body must be a JSON object', [{ field: '', message: 'expected an object' }]);
  return v as Record<string, unknown>;
}

/** A JSON Schema together with the type it guarantees; compiled on first use. */
export interface BodySchema<T> {
  readonly schema: Record<string, unknown>;
  /** `value` typed when it matches; a ValidationError listing every problem otherwise. */
  validate(value: unknown, what?: string): T;
}

let ajv: Ajv | undefined;

/**
 * Declares the schema of a body once. `T` is what the schema guarantees: keep the two side by
 * side (the schema's `required` and `properties` are `T`'s fields).
 */
export function bodySchema<T>(schema: Record<string, unknown>): BodySchema<T> {
  let check: ValidateFunction | undefined;
  return {
    schema,
    validate(value, what = 'body') {
      check ??= (ajv ??= new Ajv({ allErrors: true })).compile(schema);
      if (check(value)) return value as T;
      const problems = fieldProblems(check.errors ?? []);
      throw new ValidationError(`${what} is invalid: ${problems.map((p) => (p.field ? `${p.field} ${p.message}` : p.message)).join('; ')}`, problems);
    },
  };
}

/** The request's body, parsed and validated against `schema`. */
export function readJsonBody<T>(req: Pick<HttpRequest, 'rawBody' | 'headers'>, schema: BodySchema<T>, options: Partial<JsonBodyOptions> = {}): T {
  return schema.validate(readJson(req, options));
}

/** ajv's errors as field problems (`a.b.0.c`), each under `root` when given (`data.x`). */
export function fieldProblems(errors: readonly ErrorObject[], root = ''): FieldProblem[] {
  return errors.map((e) => {
    const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const field = e.keyword === 'required' ? [path, (e.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.') : path;
    const message =
      e.keyword === 'required' ? 'is required' : e.keyword === 'additionalProperties' ? `has unknown field '${(e.params as { additionalProperty: string }).additionalProperty}'` : (e.message ?? 'is invalid');
    return { field: [root, field].filter(Boolean).join('.'), message };
  });
}
