/**
 * Property (fast-check): whatever a validly signed delivery carries — a real payload with any
 * field replaced by any JSON value or removed, or any JSON object — every forge's normaliser
 * answers 202 (events or ignored) or 400 with a message, never a 500 or a thrown error.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { makeHandler } from '../../../functions/webhook-ingest/handler.ts';
import { toHttpResponse } from '../../../shared/errors/http-error.ts';
import type { HttpRequest } from '../../../shared/http/types.ts';
import { bitbucketHeaders, giteaHeaders, githubHeaders, gitlabHeaders } from '../../support/webhooks.ts';
import { silentLogger } from '../../support/logger.ts';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>;
const gh = (name: string, i = 0) => examples.find((e) => e.name === name)!.examples[i];
const goScm = (forge: string, name: string): any => JSON.parse(readFileSync(new URL(`../../fixtures/webhooks/go-scm/${forge}/${name}.json`, import.meta.url), 'utf8'));
const secrets = { github: 'gh', bitbucket: 'bb', gitlab: 'gl', gitea: 'gt', generic: 'gen' };

const handler = makeHandler({ secrets, publish: async () => ({ duplicate: false }), maxBodyBytes: 1 << 24, forkPullRequests: 'build', log: silentLogger });

/** The deliveries each forge sends: endpoint, headers for a body, and real payloads. */
const forges: Array<{ name: string; endpoint: string; headers: (b: Buffer) => Record<string, string>; payloads: unknown[] }> = [
  { name: 'github push', endpoint: 'github', headers: (b) => githubHeaders(secrets.github, b, 'push'), payloads: [gh('push', 0), gh('push', 4)] },
  { name: 'github pull_request', endpoint: 'github', headers: (b) => githubHeaders(secrets.github, b, 'pull_request'), payloads: [gh('pull_request', 0), gh('pull_request', 22)] },
  { name: 'github installation', endpoint: 'github', headers: (b) => githubHeaders(secrets.github, b, 'installation_repositories'), payloads: [gh('installation_repositories', 0)] },
  { name: 'github repository', endpoint: 'github', headers: (b) => githubHeaders(secrets.github, b, 'repository'), payloads: [gh('repository', 0)] },
  { name: 'gitlab push', endpoint: 'gitlab', headers: () => gitlabHeaders(secrets.gitlab, 'Push Hook'), payloads: [goScm('gitlab', 'push'), goScm('gitlab', 'tag_create')] },
  { name: 'gitlab merge request', endpoint: 'gitlab', headers: () => gitlabHeaders(secrets.gitlab, 'Merge Request Hook'), payloads: [goScm('gitlab', 'pull_request_create')] },
  { name: 'gitea push', endpoint: 'gitea', headers: (b) => giteaHeaders(secrets.gitea, b, 'push'), payloads: [goScm('gitea', 'push')] },
  { name: 'gitea pull_request', endpoint: 'gitea', headers: (b) => giteaHeaders(secrets.gitea, b, 'pull_request'), payloads: [goScm('gitea', 'pull_request_opened')] },
  { name: 'bitbucket push', endpoint: 'bitbucket', headers: (b) => bitbucketHeaders(secrets.bitbucket, b, 'repo:push'), payloads: [goScm('bitbucket', 'push')] },
  { name: 'bitbucket pull request', endpoint: 'bitbucket', headers: (b) => bitbucketHeaders(secrets.bitbucket, b, 'pullrequest:created'), payloads: [goScm('bitbucket', 'pr_created')] },
  {
    name: 'bitbucket server push',
    endpoint: 'bitbucket',
    headers: (b) => {
      const { 'x-request-uuid': _u, ...h } = bitbucketHeaders(secrets.bitbucket, b, 'repo:refs_changed');
      return { ...h, 'x-request-id': 'srv' };
    },
    payloads: [goScm('stash', 'push')],
  },
  {
    name: 'generic',
    endpoint: 'generic',
    headers: () => ({ 'content-type': 'application/json', authorization: `Bearer ${secrets.generic}` }),
    payloads: [{ repository: 'https://github.com/o/r.git', branch: 'main', revision: 'a'.repeat(40), message: 'm' }],
  },
];

/** Every path (as keys) to a value inside `v`. */
function paths(v: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push([...prefix, k]);
      if (prefix.length < 6) paths(x, [...prefix, k], out);
    }
  }
  return out;
}

function mutate(payload: unknown, path: string[], value: unknown, remove: boolean): unknown {
  const copy = structuredClone(payload) as Record<string, unknown>;
  let cur: any = copy;
  for (const k of path.slice(0, -1)) cur = cur[k];
  if (remove) delete cur[path[path.length - 1]!];
  else cur[path[path.length - 1]!] = value;
  return copy;
}

async function deliver(endpoint: string, headers: (b: Buffer) => Record<string, string>, body: Buffer): Promise<{ status: number; body: any }> {
  const req: HttpRequest = {
    method: 'POST',
    path: `/api/integrations/${endpoint}/events`,
    query: new URLSearchParams('host=bitbucket.example.com'),
    headers: headers(body),
    rawBody: body,
    signal: new AbortController().signal,
  };
  try {
    return (await handler(req)) as { status: number; body: any };
  } catch (err) {
    return toHttpResponse(err) as { status: number; body: any };
  }
}

const json = fc.jsonValue({ maxDepth: 3 });

describe('webhook normalisers: any valid-shaped payload normalises or is a 400, never a 500 (fast-check)', function () {
  this.timeout(120_000);
  for (const f of forges) {
    it(f.name, async () => {
      const mutated = fc.tuple(fc.nat(f.payloads.length - 1), fc.array(fc.tuple(fc.nat(), json, fc.boolean()), { minLength: 1, maxLength: 4 })).map(([pi, edits]) => {
        let p: unknown = f.payloads[pi];
        for (const [at, value, remove] of edits) {
          const all = paths(p);
          if (all.length === 0) break;
          p = mutate(p, all[at % all.length]!, value, remove);
        }
        return p;
      });
      const anyObject = fc.dictionary(fc.string({ maxLength: 12 }), json, { maxKeys: 8 });
      await fc.assert(
        fc.asyncProperty(fc.oneof({ weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: anyObject }), async (payload) => {
          const res = await deliver(f.endpoint, f.headers, Buffer.from(JSON.stringify(payload)));
          expect([202, 400], JSON.stringify(res.body)).to.include(res.status);
          if (res.status === 400)
            expect(res.body.message)
              .to.be.a('string')
              .and.not.match(/TypeError|undefined is not/);
        }),
        { numRuns: 300 },
      );
    });
  }
});
