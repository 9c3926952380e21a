/** The one JSON body parser (shared/http/json-body.ts) and its use at the edges. */
import { expect } from 'chai';
import { HttpError, toHttpResponse } from '../../../shared/errors/http-error.ts';
import { bodySchema, readJson, readJsonBody, readJsonObject } from '../../../shared/http/json-body.ts';
import { parseBody } from '../../../functions/log-ingest/validate.ts';
import { jsonBody } from '../../../functions/query-api/params.ts';
import { MAX_BATCH_BYTES } from '../../../shared/logs/protocol.ts';

const req = (body: string | Buffer, contentType?: string) => ({ rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body), headers: contentType ? { 'content-type': contentType } : {} });

/** The HTTP answer the edge gives for what `fn` throws. */
function answer(fn: () => unknown): { status: number; message: string; details?: unknown } {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(HttpError);
    return toHttpResponse(err).body;
  }
  throw new Error('expected a refusal');
}

interface Push {
  repository: string;
  branch: string;
  lines?: Array<{ seq: number }>;
}
const PUSH = bodySchema<Push>({
  type: 'object',
  required: ['repository', 'branch'],
  additionalProperties: false,
  properties: { repository: { type: 'string', minLength: 1 }, branch: { type: 'string' }, lines: { type: 'array', items: { type: 'object', required: ['seq'], properties: { seq: { type: 'integer' } } } } },
});

describe('shared/http/json-body', () => {
  const accepted = [
    { name: 'application/json', req: req('{"a":1}', 'application/json'), value: { a: 1 } },
    { name: 'with a charset', req: req('{"a":1}', 'Application/JSON; charset=utf-8'), value: { a: 1 } },
    { name: 'a +json type', req: req('{"a":1}', 'application/cloudevents+json'), value: { a: 1 } },
    { name: 'no content type (read as JSON)', req: req('[1,2]'), value: [1, 2] },
  ];
  accepted.forEach((c) => it(`reads ${c.name}`, () => expect(readJson(c.req)).to.deep.equal(c.value)));

  const refused = [
    { name: 'a body over the bound', fn: () => readJson(req('{"a":"xxxxxxxx"}'), { maxBytes: 8 }), status: 413, message: /larger than 8 bytes/ },
    { name: 'a content type that is not JSON', fn: () => readJson(req('a=1', 'text/plain')), status: 415, message: /content-type must be application\/json, not text\/plain/ },
    { name: 'form-encoded where no form field is allowed', fn: () => readJson(req('payload={}', 'application/x-www-form-urlencoded')), status: 415, message: /application\/json/ },
    { name: 'form-encoded without its field', fn: () => readJson(req('x=1', 'application/x-www-form-urlencoded'), { formField: 'payload' }), status: 400, message: /no 'payload' field/ },
    { name: 'invalid JSON (naming the parse error)', fn: () => readJson(req('{"a":', 'application/json')), status: 400, message: /^body is not valid JSON: \S+/ },
    { name: 'an empty body', fn: () => readJson(req('')), status: 400, message: /body is empty/ },
    { name: 'an array where an object is expected', fn: () => readJsonObject(req('[1]')), status: 400, message: /must be a JSON object/ },
  ];
  refused.forEach((c) =>
    it(`refuses ${c.name} with ${c.status}`, () => {
      const a = answer(c.fn);
      expect(a.status).to.equal(c.status);
      expect(a.message).to.match(c.message);
    }),
  );

  it('reads the JSON of a form-encoded `payload=` where allowed', () => {
    expect(readJson(req(`payload=${encodeURIComponent('{"a":1}')}`, 'application/x-www-form-urlencoded'), { formField: 'payload' })).to.deep.equal({ a: 1 });
  });

  it('returns a body that matches its schema, typed', () => {
    const push: Push = readJsonBody(req('{"repository":"r","branch":"main"}', 'application/json'), PUSH);
    expect(push).to.deep.equal({ repository: 'r', branch: 'main' });
  });

  it('lists every problem of a body with its field path', () => {
    const a = answer(() => readJsonBody(req('{"repository":"","lines":[{"seq":1},{"seq":"x"},{}],"extra":1}'), PUSH));
    expect(a.status).to.equal(400);
    expect(a.details).to.have.deep.members([
      { field: 'repository', message: 'must NOT have fewer than 1 characters' },
      { field: 'branch', message: 'is required' },
      { field: 'lines.1.seq', message: 'must be integer' },
      { field: 'lines.2.seq', message: 'is required' },
      { field: '', message: "has unknown field 'extra'" },
    ]);
    expect(a.message).to.match(/^body is invalid: .*branch is required/);
  });

  describe('at the edges', () => {
    it('log-ingest: 415 for a report that is not JSON, 413 over the batch bound', () => {
      expect(answer(() => parseBody(req('lines', 'text/plain'))).status).to.equal(415);
      expect(answer(() => parseBody(req(Buffer.alloc(MAX_BATCH_BYTES + 1, 32)))).status).to.equal(413);
    });

    it('query-api: 415 for a POST body that is not JSON, the object otherwise', () => {
      expect(answer(() => jsonBody(req('a=1', 'application/x-www-form-urlencoded'))).status).to.equal(415);
      expect(jsonBody(req('{"reason":"x"}', 'application/json'))).to.deep.equal({ reason: 'x' });
    });
  });
});
