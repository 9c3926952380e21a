import { expect } from 'chai';
import { type CloudEvent, HTTP } from 'cloudevents';
import { ValidationError } from '../../../shared/errors/http-error.ts';
import { makeEvent } from '../../../shared/events/make.ts';
import { eventNameOf, parseEvent } from '../../../shared/events/validate.ts';
import { EVENT_NAMES, type EventName, type EventPayloads } from '../../../shared/events/types.ts';

const repo = { repoSource: 'github.com', repoOwner: 'estafette', repoName: 'api' };
const trigger = { event: 'manual', fields: { USER: 'me' } };

/** A valid payload of every event type. */
const VALID: { [N in EventName]: EventPayloads[N] } = {
  'git.push': {
    ...repo,
    forge: 'github',
    cloneUrl: 'https://github.com/estafette/api.git',
    branch: 'main',
    revision: 'a'.repeat(40),
    commits: [{ id: 'a', message: 'm', author: { name: 'n', email: 'e' } }],
    pusher: { name: 'p' },
    deliveryId: 'd1',
  },
  'build.requested': { ...repo, branch: 'main', trigger, chainDepth: 0 },
  'build.started': { ...repo, buildId: '123', branch: 'main', revision: 'r', version: '1.0.0', chainDepth: 0 },
  'build.finished': { ...repo, buildId: '123', branch: 'main', revision: 'r', version: '1.0.0', chainDepth: 1, status: 'succeeded' },
  'build.cancel': { id: '123' },
  'release.requested': { ...repo, name: 'prod', version: '1.0.0', trigger, chainDepth: 0 },
  'release.started': { ...repo, releaseId: '9', name: 'prod', version: '1.0.0', chainDepth: 0 },
  'release.finished': { ...repo, releaseId: '9', name: 'prod', action: 'deploy', version: '1.0.0', chainDepth: 0, status: 'failed' },
  'release.cancel': { id: '9', requestedBy: 'me' },
  'bot.requested': { ...repo, name: 'pr-bot', branch: '', trigger: { event: 'github', fields: { EVENT: 'pull_request' } }, chainDepth: 1 },
  'bot.cancel': { id: '77', requestedBy: 'me' },
  'forge.event': { ...repo, forge: 'github', event: 'issue_comment', action: 'created', deliveryId: 'd3', payload: '{"action":"created"}', payloadBytes: 20 },
  'pipeline.renamed': { ...repo, newRepoOwner: 'o2', newRepoName: 'n2' },
  'pipeline.archived': { ...repo, archived: true },
  'cron.tick': { time: '2026-01-01T10:00:00Z' },
  'queue.advance': { reason: 'tick' },
  'git.pull_request': {
    ...repo,
    forge: 'github',
    number: 7,
    action: 'opened',
    baseBranch: 'main',
    headBranch: 'fix',
    headRepository: 'fork/api',
    fork: true,
    revision: 'b'.repeat(40),
    cloneUrl: 'https://github.com/estafette/api.git',
    cloneRef: 'pull/7/head',
    title: 'Fix',
    author: { name: 'octocat' },
    deliveryId: 'd2',
    installationId: 42,
  },
  'forge.status': { ...repo, kind: 'build', id: '123', status: 'running', branch: 'main', revision: 'c'.repeat(40) },
};

describe('events: makeEvent / parseEvent', () => {
  it('has a valid sample for every event name', () => expect(Object.keys(VALID).sort()).to.deep.equal([...EVENT_NAMES].sort()));

  EVENT_NAMES.forEach((name) =>
    it(`${name}: made, sent in binary and structured mode, parsed back`, () => {
      const ce = makeEvent(name, VALID[name], { source: '/test', subject: 'github.com/estafette/api' });
      expect(ce.type).to.equal(`ci.estafette.${name}`);
      expect(ce.id).to.match(/^[0-9a-f-]{36}$/);
      for (const msg of [HTTP.binary(ce), HTTP.structured(ce)]) {
        const received = HTTP.toEvent(msg) as CloudEvent<unknown>;
        const parsed = parseEvent(received);
        expect(parsed).to.deep.include({ name, type: ce.type, id: ce.id, source: '/test', subject: 'github.com/estafette/api' });
        expect(parsed.data).to.deep.equal(VALID[name]);
      }
    }),
  );

  it('keeps a given id and time', () => {
    const ce = makeEvent('cron.tick', { time: 'x' }, { source: '/s', id: 'fixed', time: '2026-01-01T00:00:00.000Z' });
    expect([ce.id, ce.time]).to.deep.equal(['fixed', '2026-01-01T00:00:00.000Z']);
  });

  const base = (name: EventName, data: unknown) => ({ specversion: '1.0', id: 'i', source: '/s', type: `ci.estafette.${name}`, data });
  const invalid = [
    { name: 'not an object', event: 'x', fields: [''] },
    { name: 'foreign type', event: { ...base('cron.tick', VALID['cron.tick']), type: 'com.example.x' }, fields: ['type'] },
    { name: 'missing id and source', event: { ...base('cron.tick', VALID['cron.tick']), id: '', source: undefined }, fields: ['id', 'source'] },
    { name: 'wrong spec version', event: { ...base('cron.tick', VALID['cron.tick']), specversion: '0.3' }, fields: ['specversion'] },
    { name: 'missing payload field', event: base('build.requested', { ...repo, branch: 'main', chainDepth: 0 }), fields: ['data.trigger'] },
    { name: 'mistyped nested field', event: base('git.push', { ...VALID['git.push'], commits: [{ id: 1, message: 'm', author: { name: 'n', email: 'e' } }] }), fields: ['data.commits.0.id'] },
    { name: 'bad status', event: base('build.finished', { ...VALID['build.finished'], status: 'done' }), fields: ['data.status'] },
    { name: 'non-numeric id', event: base('build.cancel', { id: 'abc' }), fields: ['data.id'] },
    { name: 'negative chain depth', event: base('release.requested', { ...VALID['release.requested'], chainDepth: -1 }), fields: ['data.chainDepth'] },
    { name: 'no data', event: base('pipeline.archived', undefined), fields: ['data'] },
    // Branches, refs and revisions reach git commands: git's ref-name rules, never an option.
    { name: 'a branch git would take for an option', event: base('build.requested', { ...VALID['build.requested'], branch: '--upload-pack=touch /tmp/pwned', revision: '-p' }), fields: ['data.branch', 'data.revision'] },
    {
      name: 'refs git refuses in a push',
      event: base('git.push', { ...VALID['git.push'], branch: 'a..b', revision: 'HEAD~1', tag: 'v1 ', before: '--all' }),
      fields: ['data.branch', 'data.revision', 'data.tag', 'data.before'],
    },
    {
      name: 'refs git refuses in a pull request',
      event: base('git.pull_request', { ...VALID['git.pull_request'], baseBranch: '-x', headBranch: 'x@{1}', cloneRef: 'pull/7/head.lock' }),
      fields: ['data.baseBranch', 'data.headBranch', 'data.cloneRef'],
    },
    { name: "a control character in a finished build's branch", event: base('build.finished', { ...VALID['build.finished'], branch: 'main\u0000' }), fields: ['data.branch'] },
  ];
  invalid.forEach((c) =>
    it(`rejects ${c.name} with every problem named`, () => {
      let err: unknown;
      try {
        parseEvent(c.event);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).status).to.equal(400);
      expect(((err as ValidationError).details as { field: string }[]).map((p) => p.field)).to.deep.equal(c.fields);
    }),
  );

  it('accepts JSON data delivered as text or bytes, and extra fields', () => {
    const data = JSON.stringify({ ...VALID['cron.tick'], extra: 1 });
    expect(parseEvent(base('cron.tick', data)).data).to.deep.equal({ ...VALID['cron.tick'], extra: 1 });
    expect(parseEvent(base('cron.tick', new TextEncoder().encode(data))).name).to.equal('cron.tick');
  });

  it('maps types to names', () => {
    expect(eventNameOf('ci.estafette.git.push')).to.equal('git.push');
    expect(eventNameOf('ci.estafette.nope')).to.equal(undefined);
    expect(eventNameOf(3)).to.equal(undefined);
  });
});
