/**
 * Issue 20's "Must show" end to end through a started `estafette start` (host executor, real
 * builder): a repository served by the fake GitHub builds from a signed push, which stores its
 * manifest and its bot's `github:` trigger; then a signed `pull_request` delivery — from a branch
 * of the repository itself, which builds nothing — runs the bot that listens to pull requests.
 * The API lists the bot run, shows it succeeded, and its log has the bot's output with
 * ESTAFETTE_BOT_NAME / ESTAFETTE_BOT_ID and the event's ESTAFETTE_TRIGGER_GITHUB_* values.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { freshDatabase, requireService } from '../support/services.ts';
import { startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { FakeForge, type FakeRepo } from '../support/fake-forge.ts';
import { githubHeaders } from '../support/webhooks.ts';
import { waitFor } from '../support/processes.ts';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>;
const SECRET = 'e2e-bots-secret';

const MANIFEST = `
stages:
  build:
    image: alpine:3.20
    commands: ["echo built"]
bots:
  pr-bot:
    triggers:
    - github:
        events:
        - pull_request
    stages:
      welcome:
        image: alpine:3.20
        commands:
        - echo "bot $ESTAFETTE_BOT_NAME run $ESTAFETTE_BOT_ID for $ESTAFETTE_TRIGGER_GITHUB_EVENT of $ESTAFETTE_TRIGGER_GITHUB_REPOSITORY"
        - echo "pull request number $(printf '%s' "$ESTAFETTE_TRIGGER_GITHUB_PAYLOAD" | grep -o '"number":[0-9]*' | head -1)"
`;

function push(repo: FakeRepo, sha: string): Buffer {
  const p = structuredClone(examples.find((e) => e.name === 'push')!.examples.find((x) => x.head_commit));
  Object.assign(p, { ref: 'refs/heads/main', after: sha });
  p.head_commit = { ...p.head_commit, id: sha, message: 'change' };
  p.commits = [p.head_commit];
  p.repository = { ...p.repository, full_name: `${repo.owner}/${repo.name}`, name: repo.name, html_url: `https://github.com/${repo.owner}/${repo.name}`, clone_url: repo.cloneUrl };
  return Buffer.from(JSON.stringify(p));
}

function pullRequest(repo: FakeRepo, number: number): Buffer {
  const p = structuredClone(examples.find((e) => e.name === 'pull_request')!.examples.find((x) => x.action === 'opened'));
  const full = `${repo.owner}/${repo.name}`;
  const r = { ...p.repository, full_name: full, name: repo.name, html_url: `https://github.com/${full}`, clone_url: repo.cloneUrl };
  p.number = number;
  p.pull_request = { ...p.pull_request, number, base: { ...p.pull_request.base, repo: r }, head: { ...p.pull_request.head, repo: r } };
  p.repository = r;
  return Buffer.from(JSON.stringify(p));
}

describe('estafette start: a bot run by a GitHub pull request event', function () {
  this.timeout(180_000);
  let sys: LocalSystem;
  let forge: FakeForge;
  let drop: (() => Promise<void>) | undefined;
  const owner = `bots${randomBytes(3).toString('hex')}`;

  before(async function () {
    forge = await new FakeForge().start();
    const env: Record<string, string | undefined> = { NATS_URL: undefined, DATABASE_URL: undefined, GITHUB_WEBHOOK_SECRET: SECRET, GITHUB_API_URL: forge.url, GITHUB_TOKEN: 'ghp_e2e', ESTAFETTE_FORGE_TIMEOUT_MS: '2000' };
    if (process.env.DATABASE_URL || process.env.REQUIRE_SERVICES === '1') {
      const db = await freshDatabase(await requireService(this, 'postgres'), 'bots');
      env.DATABASE_URL = db.url;
      drop = db.drop;
    }
    sys = await startLocalSystem({ env });
  });
  after(async () => {
    await sys?.stop();
    await forge?.stop();
    await drop?.();
  });

  const deliver = (body: Buffer, event: string) => fetch(`${sys.url}/api/integrations/github/events`, { method: 'POST', headers: githubHeaders(SECRET, body, event), body: new Uint8Array(body) });

  it('the pull_request delivery runs the bot; its status and log are in the API', async () => {
    const repo = forge.repo(owner, 'app');
    const sha = repo.commit({ '.estafette.yaml': MANIFEST });
    const pipeline = `/api/pipelines/github.com/${owner}/app`;
    expect((await deliver(push(repo, sha), 'push')).status).to.equal(202);
    const build = await waitFor(
      'the push build',
      async () => {
        const b = ((await sys.api(`${pipeline}/builds`)).body.items ?? [])[0];
        return b && ['succeeded', 'failed'].includes(b.buildStatus) ? b : undefined;
      },
      60_000,
      200,
    );
    expect(build.buildStatus, sys.output()).to.equal('succeeded');
    expect((await sys.api(`${pipeline}/bots`)).body.items).to.deep.equal([]);

    const t0 = Date.now();
    const res = await deliver(pullRequest(repo, 42), 'pull_request');
    expect(res.status).to.equal(202);
    // A pull request from a branch of the repository builds nothing, but the bot hears it.
    expect((await res.json()).ignored).to.equal(true);
    const bot = await waitFor(
      'the bot run',
      async () => {
        const b = ((await sys.api(`${pipeline}/bots`)).body.items ?? [])[0];
        return b && ['succeeded', 'failed'].includes(b.botStatus) ? b : undefined;
      },
      60_000,
      200,
    );
    console.log(`      (pull_request delivery → bot run succeeded in ${Date.now() - t0} ms)`);
    expect(bot, sys.output()).to.include({ name: 'pr-bot', botStatus: 'succeeded', repoBranch: 'main', repoRevision: sha, buildId: build.id, triggeredBy: 'github' });
    expect(bot.trigger.fields).to.include({ EVENT: 'pull_request', ACTION: 'opened', REPOSITORY: `github.com/${owner}/app` });
    expect(bot.trigger.fields).to.not.have.property('PAYLOAD'); // lists leave the raw payload out

    const one = (await sys.api(`${pipeline}/bots/${bot.id}`)).body;
    expect(one).to.include({ id: bot.id, botStatus: 'succeeded' });
    expect(JSON.parse(one.trigger.fields.PAYLOAD).number).to.equal(42);
    const lines = ((await sys.api(`${pipeline}/bots/${bot.id}/logs`)).body.items as Array<{ stage: string; text: string }>).map((l) => l.text);
    expect(lines, lines.join('\n')).to.include(`bot pr-bot run ${bot.id} for pull_request of github.com/${owner}/app`);
    expect(lines).to.include('pull request number "number":42');
    const stages = (await sys.api(`${pipeline}/bots/${bot.id}/stages`)).body.items as Array<{ stage: string; status: string }>;
    expect(stages.map((s) => [s.stage, s.status])).to.deep.equal([['welcome', 'succeeded']]);
    const text = await fetch(`${sys.url}${pipeline}/bots/${bot.id}/logs.txt`).then((r) => r.text());
    expect(text.split('\n')[0]).to.equal(`Bot pr-bot of github.com/${owner}/app, branch main at ${sha.slice(0, 7)}: succeeded`);
    expect((await sys.api(`/api/bots`)).body.items.map((b: any) => b.id)).to.include(bot.id);
  });
});
