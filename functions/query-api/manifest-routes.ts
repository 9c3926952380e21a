/**
 * The manifest tools of query-api: `POST /api/manifest/validate` (parse and lint a manifest, every
 * problem with its field) and `POST /api/manifest/encrypt` (an `estafette.secret(...)` value
 * restricted to the pipelines of an allow list).
 */
import { HttpError, ValidationError } from '../../shared/errors/http-error.ts';
import { json, type HttpResponse } from '../../shared/http/types.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import { encryptSecret, SecretError } from '../../shared/secrets/secret.ts';
import * as p from './params.ts';
import type { Principal } from '../../shared/auth/access.ts';
import type { RouteContext } from './router.ts';

type Ctx = RouteContext<Principal>;

/** `text` as a regular expression matching exactly that text. */
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `POST /api/manifest/validate` `{manifest}`. */
export function validateManifest(c: Ctx): HttpResponse {
  const loaded = loadManifest(p.field(p.jsonBody(c.req), 'manifest', 1024 * 1024));
  const problems = (list: typeof loaded.errors) => list.map(({ field, message }) => ({ field, message }));
  return json(200, { status: loaded.errors.length ? 'failed' : 'succeeded', errors: problems(loaded.errors), warnings: problems(loaded.warnings) });
}

/** `POST /api/manifest/encrypt` with ESTAFETTE_SECRET_KEY (503 without one). */
export function manifestEncrypt(secretKey: string | undefined) {
  return async function encrypt(c: Ctx): Promise<HttpResponse> {
    if (!secretKey) throw new HttpError(503, 'secret encryption is not configured (set ESTAFETTE_SECRET_KEY)');
    const body = p.jsonBody(c.req);
    if (typeof body.value !== 'string') throw new ValidationError('value is required (a string)');
    if (body.value.length > 1024 * 1024) throw new ValidationError('value is longer than 1 MiB');
    for (const k of ['base64', 'double'] as const) if (body[k] !== undefined && typeof body[k] !== 'boolean') throw new ValidationError(`${k} must be true or false`);
    // An empty allow list means the one pipeline the secret is for (the safer reading); every
    // pipeline has to be asked for explicitly with `.*`.
    const pipeline = p.optionalField(body, 'pipeline', 500);
    if (pipeline !== undefined && !/^[^/\s]+\/[^/\s]+\/[^/\s]+$/.test(pipeline)) throw new ValidationError('pipeline must look like source/owner/name, e.g. github.com/my-org/my-repo');
    const given = p.optionalField(body, 'pipelineAllowList', 1000);
    if (given === undefined && pipeline === undefined) {
      throw new ValidationError('give pipeline (the secret is then usable by that pipeline only) or pipelineAllowList (a regular expression; .* for every pipeline)');
    }
    const allowList = given ?? escapeRegExp(pipeline!);
    const value = body.base64 ? Buffer.from(body.value, 'utf8').toString('base64') : body.value;
    try {
      const once = encryptSecret(value, secretKey, allowList);
      return json(200, { secret: body.double ? encryptSecret(once, secretKey, allowList) : once });
    } catch (err) {
      if (err instanceof SecretError) throw new ValidationError(err.message);
      throw err;
    }
  };
}
