/**
 * Bots (issue 20) through a real build-dispatch: real PostgreSQL, file:// repositories, the
 * kubernetes JobRunner against the fake API server. A forge delivery (forge.event) fires the
 * `github:` trigger of a bot that lists its event, for its own repository only; the bot request
 * becomes a bot run (a row, a Job) with ESTAFETTE_BOT_NAME / ESTAFETTE_BOT_ID and the event's
 * ESTAFETTE_TRIGGER_GITHUB_* fields; redelivery runs it once; a bot the manifest lacks is a
 * failed run with its reason; pipeline and cron triggers with a `runs` action request bots too.
 */
import { expect } from 'chai';
import { getBot, listBots } from '../../../shared/db/bots.ts';
import { readLogLines } from '../../../shared/db/logs.ts';
import type { ForgeEventData } from '../../../shared/events/types.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { DispatchHarness, type Published } from './harness.ts';

const MANIFEST = `
stages:
  build:
    image: alpine:3.20
    commands: ["true"]
bots:
  pr-bot:
    triggers:
    - name: on-pr
      github:
        events:
        - pull_request
        - issue_comment
    stages:
      welcome:
        image: alpine:3.20
        commands: ["echo hello $ESTAFETTE_BOT_NAME"]
  tidy:
    clone: true
    triggers:
    - pipeline:
        name: self
        branch: main
    stages:
      tidy:
        image: alpine:3.20
        commands: ["true"]
`;

const botRequests = (events: Published[]) => events.filter((e): e is Extract<Published, { name: 'bot.requested' }> => e.name === 'bot.requested');

describe('bots (build-dispatch)', function () {
  let db: TestDatabase;
  let h: DispatchHarness;

  before(async function () {
    db = await migratedDatabase(this);
  });
  after(async () => db?.close());
  beforeEach(async () => {
    h = await DispatchHarness.start(db);
  });
  afterEach(async () => h?.stop());

  const forgeEvent = (ref: { repoSource: string; repoOwner: string; repoName: string }, event: string, deliveryId = `d-${Math.random()}`): ForgeEventData => {
    const payload = JSON.stringify({ action: 'opened', number: 7, repository: { full_name: `${ref.repoOwner}/${ref.repoName}` } });
    return { forge: 'github', ...ref, event, action: 'opened', deliveryId, payload, payloadBytes: payload.length };
  };

  it('a pull_request delivery runs the bot that listens to it, once per delivery, with the bot and trigger variables', async () => {
    const a = h.repo('a', MANIFEST);
    await a.push();
    h.take();
    const data = forgeEvent(a.ref, 'pull_request', 'delivery-1');
    await h.handler({ name: 'forge.event', id: 'fe-1', data });
    await h.handler({ name: 'forge.event', id: 'fe-1', data }); // redelivered
    const reqs = botRequests(h.take());
    expect(reqs).to.have.length(2);
    expect(reqs[1]!.id).to.equal(reqs[0]!.id);
    expect(reqs[0]!.data).to.deep.include({ ...a.ref, name: 'pr-bot', branch: '', chainDepth: 1 });
    expect(reqs[0]!.data.trigger).to.deep.equal({ event: 'github', name: 'on-pr', fields: { EVENT: 'pull_request', REPOSITORY: a.full, DELIVERY: 'delivery-1', ACTION: 'opened', PAYLOAD: data.payload } });
    for (const e of reqs) await h.handler(e);

    const pipeline = await a.pipeline();
    const bots = (await listBots(db.pool, { pipelineId: pipeline.id })).items;
    expect(bots.map((b) => [b.name, b.botStatus, b.repoBranch])).to.deep.equal([['pr-bot', 'pending', 'main']]);
    const [build] = await a.builds();
    expect(bots[0]!).to.include({ buildId: build!.id, repoRevision: build!.repoRevision, triggeredBy: 'github' });
    const env = h.builderConfig(bots[0]!.id).plan.estafetteEnv;
    expect(env).to.include({
      ESTAFETTE_BOT_NAME: 'pr-bot',
      ESTAFETTE_BOT_ID: bots[0]!.id,
      ESTAFETTE_TRIGGER_EVENT: 'github',
      ESTAFETTE_TRIGGER_GITHUB_EVENT: 'pull_request',
      ESTAFETTE_TRIGGER_GITHUB_REPOSITORY: a.full,
      ESTAFETTE_TRIGGER_GITHUB_DELIVERY: 'delivery-1',
      ESTAFETTE_TRIGGER_GITHUB_PAYLOAD: data.payload,
      ESTAFETTE_GIT_BRANCH: 'main',
      // The named trigger that fired, under its own name too (Estafette's named-event variables).
      ESTAFETTE_TRIGGER_ON_PR_EVENT: 'pull_request',
      ESTAFETTE_TRIGGER_ON_PR_DELIVERY: 'delivery-1',
    });
    const config = h.builderConfig(bots[0]!.id) as unknown as { job: { kind: string; id: string }; git: { clone: boolean }; plan: { kind: string; stages: Array<{ name: string }> } };
    expect(config.job).to.deep.equal({ kind: 'bot', id: bots[0]!.id });
    expect(config.plan.kind).to.equal('bot');
    // No `clone: true`: the bot's stages alone, no git-clone.
    expect([config.git.clone, config.plan.stages.map((s) => s.name)]).to.deep.equal([false, ['welcome']]);
  });

  const quiet: Array<{ name: string; event: string; other?: boolean }> = [
    { name: 'an event the trigger does not list', event: 'push' },
    { name: 'an event of another repository', event: 'pull_request', other: true },
  ];
  quiet.forEach((c) =>
    it(`does not run a bot for ${c.name}`, async () => {
      const a = h.repo('a', MANIFEST);
      const other = h.repo('other', 'stages:\n  s:\n    image: alpine:3.20\n');
      await a.push();
      await other.push();
      h.take();
      await h.handler({ name: 'forge.event', id: `fe-${c.name}`, data: forgeEvent(c.other ? other.ref : a.ref, c.event) });
      expect(botRequests(h.take())).to.deep.equal([]);
    }),
  );

  it('an issue_comment delivery runs the bot too', async () => {
    const a = h.repo('a', MANIFEST);
    await a.push();
    h.take();
    await h.handler({ name: 'forge.event', id: 'fe-comment', data: forgeEvent(a.ref, 'issue_comment') });
    expect(botRequests(h.take()).map((e) => [e.data.name, e.data.trigger.fields.EVENT])).to.deep.equal([['pr-bot', 'issue_comment']]);
  });

  it('a bot the manifest does not have is a failed run with the reason in its log', async () => {
    const a = h.repo('a', MANIFEST);
    await a.push();
    h.take();
    await h.handler({ name: 'bot.requested', id: 'br-missing', data: { ...a.ref, name: 'nope', branch: '', trigger: { event: 'manual', fields: {} }, chainDepth: 0 } });
    const [bot] = (await listBots(db.pool, { pipelineId: (await a.pipeline()).id })).items;
    expect(bot).to.include({ name: 'nope', botStatus: 'failed' });
    expect(bot!.statusReason).to.match(/^bot 'nope' is not in the manifest of main at [0-9a-f]{7}$/);
    const lines = await readLogLines(db.pool, 'bot', bot!.id, { afterSeq: -1, limit: 10 });
    expect(lines.map((l) => [l.stage, l.text])).to.deep.equal([['validate-bot', `Bot refused: ${bot!.statusReason}`]]);
  });

  it('bot.cancel ends a pending run and deletes its Job', async () => {
    const a = h.repo('a', MANIFEST);
    await a.push();
    await h.handler({ name: 'bot.requested', id: 'br-cancel', data: { ...a.ref, name: 'pr-bot', branch: 'main', trigger: { event: 'manual', fields: {} }, chainDepth: 0 } });
    const [bot] = (await listBots(db.pool, { pipelineId: (await a.pipeline()).id })).items;
    const jobOf = () => h.api.jobs().filter((j) => j.metadata.labels?.['estafette.io/job-id'] === bot!.id);
    expect(jobOf()).to.have.length(1);
    await h.handler({ name: 'bot.cancel', id: 'bc-1', data: { id: bot!.id, requestedBy: 'me' } });
    expect(await getBot(db.pool, bot!.id)).to.include({ botStatus: 'canceled', statusReason: 'canceled by me' });
    expect(jobOf()).to.deep.equal([]);
  });

  it("a pipeline trigger's runs action requests its bot, which clones when it says clone: true", async () => {
    const a = h.repo('a', MANIFEST);
    await a.push();
    h.take();
    await h.finish((await a.builds())[0]!.id);
    const reqs = botRequests(h.take());
    expect(reqs.map((e) => [e.data.name, e.data.trigger.event])).to.deep.equal([['tidy', 'pipeline']]);
    await h.handler(reqs[0]!);
    const [bot] = (await listBots(db.pool, { pipelineId: (await a.pipeline()).id })).items;
    const config = h.builderConfig(bot!.id) as unknown as { git: { clone: boolean }; plan: { stages: Array<{ name: string }> } };
    expect([config.git.clone, config.plan.stages.map((s) => s.name)]).to.deep.equal([true, ['git-clone', 'tidy']]);
  });
});
