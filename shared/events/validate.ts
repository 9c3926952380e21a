/**
 * Validation of incoming CloudEvents at the edge of every consumer: `parseEvent(ce)` checks the
 * CloudEvents attributes, that the type is one of ours and that the data matches its payload
 * schema (JSON Schema, ajv), and returns a typed `ParsedEvent` — or throws a ValidationError
 * (400) naming every problem. Unknown extra data fields are accepted (a newer producer may add
 * some); missing or mistyped ones are not.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { ValidationError } from '../errors/http-error.ts';
import { isRefName, isRevision } from '../git/ref-name.ts';
import { fieldProblems, type FieldProblem } from '../http/json-body.ts';
import { JOB_STATUSES } from '../status/status.ts';
import { BOT_FORGES, EVENT_NAMES, EVENT_PREFIX, FORGES, type EventName, type EventPayloads, type EventType } from './types.ts';

/** A validated event: its name, attributes and typed data. */
export type ParsedEvent = {
  [N in EventName]: {
    name: N;
    type: `${typeof EVENT_PREFIX}${N}`;
    id: string;
    source: string;
    subject?: string;
    time?: string;
    data: EventPayloads[N];
  };
}[EventName];

type Schema = Record<string, unknown>;
const str: Schema = { type: 'string' };
const nonEmpty: Schema = { type: 'string', minLength: 1 };
const count: Schema = { type: 'integer', minimum: 0 };
const id: Schema = { type: 'string', pattern: '^[1-9][0-9]{0,18}$' };
// Refs and revisions reach git commands: git's ref-name rules (shared/git/ref-name.ts), or empty where the field may be.
const ref: Schema = { type: 'string', format: 'git-ref' };
const revision: Schema = { type: 'string', format: 'git-revision' };
const refOrEmpty: Schema = { type: 'string', format: 'git-ref-or-empty' };
const revisionOrEmpty: Schema = { type: 'string', format: 'git-revision-or-empty' };
const FORMATS = {
  'git-ref': isRefName,
  'git-revision': isRevision,
  'git-ref-or-empty': (v: string) => v === '' || isRefName(v),
  'git-revision-or-empty': (v: string) => v === '' || isRevision(v),
};
const obj = (required: Record<string, Schema>, optional: Record<string, Schema> = {}): Schema => ({
  type: 'object',
  required: Object.keys(required),
  properties: { ...required, ...optional },
});
const repo = { repoSource: nonEmpty, repoOwner: nonEmpty, repoName: nonEmpty };
const trigger = obj({ event: nonEmpty, fields: { type: 'object', additionalProperties: str } }, { name: { type: ['string', 'null'] } });
const commit = obj({ id: str, message: str, author: obj({ name: str, email: str }, { username: str }) });
const status = { enum: [...JOB_STATUSES] };
const buildStarted = { ...repo, buildId: id, branch: refOrEmpty, revision: revisionOrEmpty, version: nonEmpty, chainDepth: count };
const releaseStarted = { ...repo, releaseId: id, name: nonEmpty, version: nonEmpty, chainDepth: count };

/** JSON Schema of each payload. */
const PAYLOAD_SCHEMAS: Record<EventName, Schema> = {
  'git.push': obj(
    { ...repo, forge: { enum: [...FORGES] }, cloneUrl: nonEmpty, branch: refOrEmpty, revision, commits: { type: 'array', items: commit }, pusher: obj({ name: str }, { email: str }), deliveryId: nonEmpty },
    { tag: refOrEmpty, commitCount: count, installationId: count, before: revisionOrEmpty, changedFiles: { type: 'array', items: str } },
  ),
  'git.pull_request': obj(
    {
      ...repo,
      forge: { enum: [...FORGES] },
      number: count,
      action: str,
      baseBranch: ref,
      headBranch: ref,
      headRepository: nonEmpty,
      fork: { type: 'boolean' },
      revision,
      cloneUrl: nonEmpty,
      cloneRef: ref,
      title: str,
      author: obj({ name: str }),
      deliveryId: nonEmpty,
    },
    { installationId: count },
  ),
  'build.requested': obj({ ...repo, branch: refOrEmpty, trigger, chainDepth: count }, { revision: revisionOrEmpty, version: str, requestedBy: str, commits: { type: 'array', items: commit }, rerunFailedOf: id }),
  'build.started': obj(buildStarted),
  'build.finished': obj({ ...buildStarted, status }),
  'build.cancel': obj({ id }, { requestedBy: str }),
  'release.requested': obj({ ...repo, name: nonEmpty, version: nonEmpty, trigger, chainDepth: count }, { action: str, requestedBy: str, ifBusy: { enum: ['queue', 'refuse'] } }),
  'release.started': obj(releaseStarted, { action: str }),
  'release.finished': obj({ ...releaseStarted, status }, { action: str }),
  'release.cancel': obj({ id }, { requestedBy: str }),
  'bot.requested': obj({ ...repo, name: nonEmpty, branch: str, trigger, chainDepth: count }, { requestedBy: str }),
  'bot.cancel': obj({ id }, { requestedBy: str }),
  'forge.event': obj({ ...repo, forge: { enum: [...BOT_FORGES] }, event: nonEmpty, action: str, deliveryId: nonEmpty, payload: str, payloadBytes: count }),
  'pipeline.renamed': obj({ ...repo, newRepoOwner: nonEmpty, newRepoName: nonEmpty }),
  'pipeline.archived': obj({ ...repo, archived: { type: 'boolean' } }),
  'cron.tick': obj({ time: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}' } }),
  'queue.advance': obj({ reason: nonEmpty }),
  'forge.status': obj({ ...repo, kind: { enum: ['build', 'release'] }, id, status, branch: refOrEmpty, revision: revisionOrEmpty }),
};

// Compiled per event type on first use: ajv's code generation is most of a cold instance's first
// event otherwise, and a function sees only a few of the types.
let ajv: Ajv | undefined;
const validators = new Map<EventName, ValidateFunction>();
const validatorFor = (name: EventName): ValidateFunction => {
  let v = validators.get(name);
  if (!v) validators.set(name, (v = (ajv ??= new Ajv({ allErrors: true, formats: FORMATS })).compile(PAYLOAD_SCHEMAS[name])));
  return v;
};

/**
 * A CloudEvent's data as JSON: binary-mode deliveries without a JSON content type leave it as
 * text or bytes, which are parsed; data that is not JSON comes back as it was.
 */
export function decodeData(data: unknown): unknown {
  const text = typeof data === 'string' ? data : data instanceof Uint8Array ? new TextDecoder().decode(data) : undefined;
  if (text === undefined) return data;
  try {
    return JSON.parse(text);
  } catch {
    return data;
  }
}

/** The event name of a type (`ci.estafette.git.push` → `git.push`), or undefined for foreign types. */
export const eventNameOf = (type: unknown): EventName | undefined => {
  if (typeof type !== 'string' || !type.startsWith(EVENT_PREFIX)) return undefined;
  const name = type.slice(EVENT_PREFIX.length);
  return (EVENT_NAMES as readonly string[]).includes(name) ? (name as EventName) : undefined;
};

/**
 * Validates a received CloudEvent (any object with CloudEvents attributes) and returns it typed.
 * Throws ValidationError listing `{field, message}` problems in `details`.
 */
export function parseEvent(ce: unknown): ParsedEvent {
  if (ce === null || typeof ce !== 'object') throw new ValidationError('not a CloudEvent', [{ field: '', message: 'expected an object' }]);
  const e = ce as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  if (e.specversion !== '1.0') problems.push({ field: 'specversion', message: 'must be 1.0' });
  for (const attr of ['id', 'source'] as const) {
    if (typeof e[attr] !== 'string' || e[attr] === '') problems.push({ field: attr, message: 'is required' });
  }
  const name = eventNameOf(e.type);
  if (!name) problems.push({ field: 'type', message: `must be one of ${EVENT_PREFIX}{${EVENT_NAMES.join(',')}}` });
  for (const attr of ['subject', 'time'] as const) {
    if (e[attr] !== undefined && typeof e[attr] !== 'string') problems.push({ field: attr, message: 'must be a string' });
  }
  const data = decodeData(e.data);
  if (name) {
    const validate = validatorFor(name);
    if (!validate(data)) problems.push(...fieldProblems(validate.errors ?? [], 'data'));
  }
  if (problems.length) {
    const summary = problems.map((p) => `${p.field} ${p.message}`).join('; ');
    throw new ValidationError(`invalid ${typeof e.type === 'string' ? e.type : 'event'}: ${summary}`, problems);
  }
  return {
    name,
    type: e.type as EventType,
    id: e.id as string,
    source: e.source as string,
    ...(e.subject === undefined ? {} : { subject: e.subject as string }),
    ...(e.time === undefined ? {} : { time: e.time as string }),
    data,
  } as ParsedEvent;
}
