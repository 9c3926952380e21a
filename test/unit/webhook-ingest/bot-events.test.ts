/**
 * Forge deliveries as bots hear them (forge.event, issue 20), on payloads nobody here wrote
 * (@octokit/webhooks-examples, go-scm's Bitbucket payloads): with botEvents on, every GitHub and
 * Bitbucket delivery that names a repository — a pull request the adapter ignores (a branch of the
 * repository itself), an issue comment it does not handle — is published as one forge.event with
 * the forge's event name, action, delivery id and raw payload, beside whatever it builds; pings,
 * other forges and a payload over the variable limit are handled as said.
 */
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { makeHandler, deliveryEventId } from '../../../functions/webhook-ingest/handler.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { toHttpResponse } from '../../../shared/errors/http-error.ts';
import { MAX_BOT_PAYLOAD_BYTES } from '../../../shared/events/types.ts';
import { bitbucketHeaders, githubHeaders, gitlabHeaders } from '../../support/webhooks.ts';
import { silentLogger } from '../../support/logger.ts';

type Examples = Array<{ name: string; examples: any[] }>;
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Examples;
const githubExamples = (name: string): any[] => examples.find((e) => e.name === name)!.examples;
const goScm = (forge: string, name: string): any => JSON.parse(readFileSync(new URL(`../../fixtures/webhooks/go-scm/${forge}/${name}.json`, import.meta.url), 'utf8'));
const secrets = { github: 'gh', bitbucket: 'bb', gitlab: 'gl', gitea: 'gt', generic: 'gen' };
const buf = (v: unknown) => Buffer.from(JSON.stringify(v));

function harness(botEvents = true) {
  const published: Array<{ name: string; data: any; id: string }> = [];
  const handler = makeHandler({
    secrets,
    publish: async (name, data, id) => (published.push({ name, data, id }), { duplicate: false }),
    maxBodyBytes: 25 * 1024 * 1024,
    forkPullRequests: 'build',
    log: silentLogger,
    botEvents,
  });
  const call = async (forge: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: any }> => {
    const req: HttpRequest = { method: 'POST', path: `/api/integrations/${forge}/events`, query: new URLSearchParams(), headers, rawBody: body, signal: new AbortController().signal };
    try {
      return (await handler(req)) as { status: number; body: any };
    } catch (err) {
      return toHttpResponse(err) as { status: number; body: any };
    }
  };
  return { published, call, forgeEvents: () => published.filter((e) => e.name === 'forge.event') };
}

describe('webhook-ingest: deliveries for bots (forge.event)', () => {
  const cases: Array<{ name: string; event: string; payload: any }> = [
    ...githubExamples('pull_request').map((p, i) => ({ name: `pull_request example ${i} (${p.action})`, event: 'pull_request', payload: p })),
    ...githubExamples('issue_comment').map((p, i) => ({ name: `issue_comment example ${i} (${p.action})`, event: 'issue_comment', payload: p })),
    { name: 'push', event: 'push', payload: githubExamples('push').find((p) => p.head_commit) },
  ];
  cases.forEach((c) =>
    it(`GitHub ${c.name}: one forge.event with the event name, action, delivery and payload`, async () => {
      const h = harness();
      const body = buf(c.payload);
      const res = await h.call('github', githubHeaders(secrets.github, body, c.event, `dl-${c.name}`), body);
      expect(res.status).to.equal(202);
      const [e, ...more] = h.forgeEvents();
      expect(more).to.deep.equal([]);
      const [owner, name] = String(c.payload.repository.full_name).split('/');
      expect(e!.data).to.deep.equal({
        forge: 'github',
        repoSource: 'github.com',
        repoOwner: owner,
        repoName: name,
        event: c.event,
        action: c.payload.action ?? '',
        deliveryId: `dl-${c.name}`,
        payload: JSON.stringify(c.payload),
        payloadBytes: Buffer.byteLength(JSON.stringify(c.payload)),
      });
      expect(e!.id).to.equal(deliveryEventId('github/bots', `dl-${c.name}`, 0));
      // The delivery's other events are what they were without bots.
      expect(h.published.filter((x) => x.name !== 'forge.event').map((x) => x.name)).to.deep.equal(c.event === 'push' ? ['git.push'] : []);
    }),
  );

  it('Bitbucket pullrequest:created (go-scm payload): a forge.event named by X-Event-Key', async () => {
    const h = harness();
    const p = goScm('bitbucket', 'pr_created');
    const body = buf(p);
    await h.call('bitbucket', bitbucketHeaders(secrets.bitbucket, body, 'pullrequest:created', 'req-uuid-1'), body);
    const [e] = h.forgeEvents();
    expect(e!.data).to.deep.include({ forge: 'bitbucket', repoSource: 'bitbucket.org', event: 'pullrequest:created', deliveryId: 'req-uuid-1' });
    expect(`${e!.data.repoOwner}/${e!.data.repoName}`).to.equal(p.repository.full_name);
  });

  it('a ping, another forge, and botEvents off publish no forge.event', async () => {
    const h = harness();
    const ping = buf(githubExamples('ping')[0]);
    await h.call('github', githubHeaders(secrets.github, ping, 'ping'), ping);
    const gl = buf(goScm('gitlab', 'push'));
    await h.call('gitlab', gitlabHeaders(secrets.gitlab), gl);
    expect(h.forgeEvents()).to.deep.equal([]);
    const off = harness(false);
    const pr = buf(githubExamples('pull_request')[0]);
    await off.call('github', githubHeaders(secrets.github, pr, 'pull_request'), pr);
    expect(off.published).to.deep.equal([]);
  });

  it('a payload over the limit of one environment variable travels without its payload, with its size', async () => {
    const h = harness();
    const p = structuredClone(githubExamples('issue_comment')[0]);
    p.comment.body = 'x'.repeat(MAX_BOT_PAYLOAD_BYTES);
    const body = buf(p);
    await h.call('github', githubHeaders(secrets.github, body, 'issue_comment'), body);
    const [e] = h.forgeEvents();
    expect(e!.data.payload).to.equal('');
    expect(e!.data.payloadBytes).to.equal(body.length);
  });
});
