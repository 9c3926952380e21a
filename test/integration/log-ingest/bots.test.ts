/**
 * Bot runs through log-ingest and query-api over real HTTP, PostgreSQL and NATS (issue 20): the
 * builder of a bot run writes its log and status with its own job token (another run's token is
 * 401, an unknown run 404), the status moves along the state machine without any bus event (bots
 * end nothing else), and the API shows the run in the pipeline's bot list (payload left out), as
 * one run (payload kept), with its stages and log; it is 404 under another pipeline, a manual run
 * publishes bot.requested, and cancelling an ended run is 409.
 */
import { expect } from 'chai';
import { createBot, getBot } from '../../../shared/db/bots.ts';
import { bearer, get, lines, post, seed, startHarness, type Harness } from '../query-api/harness.ts';

describe('bot runs: log-ingest and query-api (HTTP, PostgreSQL, NATS)', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async function () {
    h = await startHarness(this);
  });
  after(async () => h?.stop());

  const ingest = (id: string, what: 'logs' | 'status') => `${h.ingestUrl}/api/ingest/bots/${id}/${what}`;
  const newBot = async (repoName: string) => {
    const { pipeline, builds } = await seed(h.pool, repoName, [{ status: 'succeeded' }]);
    const trigger = { event: 'github', fields: { EVENT: 'pull_request', ACTION: 'opened', REPOSITORY: `github.com/estafette/${repoName}`, DELIVERY: 'd-1', PAYLOAD: '{"number":7}' } };
    const { bot } = await createBot(h.pool, {
      pipelineId: pipeline.id,
      repoSource: 'github.com',
      repoOwner: 'estafette',
      repoName,
      name: 'pr-bot',
      branch: 'main',
      revision: builds[0]!.repoRevision,
      trigger,
      triggeredBy: 'github',
      buildId: builds[0]!.id,
      eventId: `ev-${repoName}`,
    });
    return { pipeline, bot };
  };

  it("stores a bot run's log and status reports with its token, publishing no event; the API shows them", async () => {
    const { bot } = await newBot('botlog');
    const headers = await bearer('bot', bot.id);
    const before = h.published.length;
    expect((await post(ingest(bot.id, 'status'), { status: 'running', stages: [{ stage: 'welcome', run: 1, kind: 'stage', status: 'running', startedAt: '2026-01-01T00:00:00Z' }] }, headers)).status).to.equal(202);
    expect((await post(ingest(bot.id, 'logs'), { lines: lines(0, 3, 'welcome') }, headers)).body).to.deep.equal({ accepted: 3, stored: 3 });
    const r = await post(ingest(bot.id, 'status'), { status: 'succeeded', stages: [{ stage: 'welcome', run: 1, kind: 'stage', status: 'succeeded', finishedAt: '2026-01-01T00:00:02Z', durationMs: 2000 }] }, headers);
    expect(r).to.deep.include({ status: 202, body: { status: 'succeeded' } });
    expect((await getBot(h.pool, bot.id))!.botStatus).to.equal('succeeded');
    expect(h.published.slice(before)).to.deep.equal([]);

    const PL = `${h.apiUrl}/api/pipelines/github.com/estafette/botlog`;
    const list = (await get(`${PL}/bots`)).body;
    expect(list.pagination.totalItems).to.equal(1);
    expect(list.items[0]).to.deep.include({ id: bot.id, name: 'pr-bot', botStatus: 'succeeded', repoBranch: 'main' });
    expect(list.items[0].trigger.fields).to.deep.equal({ EVENT: 'pull_request', ACTION: 'opened', REPOSITORY: 'github.com/estafette/botlog', DELIVERY: 'd-1' });
    expect((await get(`${PL}/bots/${bot.id}`)).body.trigger.fields.PAYLOAD).to.equal('{"number":7}');
    expect((await get(`${PL}/bots/${bot.id}/logs`)).body.items.map((l: { seq: number }) => l.seq)).to.deep.equal([0, 1, 2]);
    expect((await get(`${PL}/bots/${bot.id}/stages`)).body.items.map((s: { stage: string; status: string }) => [s.stage, s.status])).to.deep.equal([['welcome', 'succeeded']]);
    expect((await get(`${PL}/botnames`)).body).to.deep.equal({ items: [{ name: 'pr-bot', count: 1 }] });
    expect((await get(`${PL}/bots?filter[status]=failed`)).body.items).to.deep.equal([]);
    expect((await get(`${h.apiUrl}/api/bots?filter[name]=pr-bot`)).body.items.map((b: { id: string }) => b.id)).to.include(bot.id);
    expect((await get(`${h.apiUrl}/api/stats/botscount?filter[status]=succeeded`)).body.count).to.be.at.least(1);
    const cancel = await fetch(`${PL}/bots/${bot.id}`, { method: 'DELETE' });
    expect(cancel.status).to.equal(409);
  });

  it("refuses another run's token (401) and an unknown run (404) at ingest, and another pipeline's run (404) in the API", async () => {
    const { bot } = await newBot('botauth');
    const { bot: other } = await newBot('botother');
    expect((await post(ingest(bot.id, 'logs'), { lines: lines(0, 1) }, await bearer('bot', other.id))).status).to.equal(401);
    expect((await post(ingest(bot.id, 'logs'), { lines: lines(0, 1) }, await bearer('build', bot.id))).status).to.equal(401);
    expect((await post(ingest('999999999', 'status'), { status: 'running' }, await bearer('bot', '999999999'))).status).to.equal(404);
    expect((await get(`${h.apiUrl}/api/pipelines/github.com/estafette/botauth/bots/${other.id}`)).status).to.equal(404);
  });

  it('POST …/bots publishes a manual bot.requested; a body without name is 400', async () => {
    await newBot('botrun');
    const PL = `${h.apiUrl}/api/pipelines/github.com/estafette/botrun`;
    const before = h.published.length;
    const r = await post(`${PL}/bots`, { name: 'pr-bot', branch: 'main' }, { 'content-type': 'application/json' });
    expect(r.status).to.equal(202);
    const [e] = h.published.slice(before);
    expect(e).to.deep.include({ name: 'bot.requested', id: r.body.eventId });
    expect(e!.data).to.deep.include({ repoSource: 'github.com', repoOwner: 'estafette', repoName: 'botrun', name: 'pr-bot', branch: 'main', chainDepth: 0 });
    expect((await post(`${PL}/bots`, { branch: 'main' }, { 'content-type': 'application/json' })).status).to.equal(400);
  });
});
