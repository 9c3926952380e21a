/**
 * Bots in a real browser (Debian chromium, playwright-core) against a real `estafette start`
 * with its own database (issue 20): a pipeline's Bots tab lists a bot run with the event that
 * fired it and its status, and the run's page shows its header and its log, like a release's.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { freshDatabase, requireService } from '../support/services.ts';
import { startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { CHROMIUM, CHROMIUM_ARGS, ensureUiBuilt, loud, pushedRepo, shot, until, type PushedRepo } from './support.ts';

const MANIFEST = `
stages:
  build:
    image: alpine:3.20
    commands: ["echo built"]
bots:
  greeter:
    triggers:
    - github:
        events: [pull_request]
    stages:
      greet:
        image: alpine:3.20
        commands: ['echo "hello from $ESTAFETTE_BOT_NAME"']
`;

describe('UI: bots (chromium)', function () {
  this.timeout(180_000);
  let sys: LocalSystem | undefined;
  let browser: Browser | undefined;
  let repo: PushedRepo | undefined;
  let drop: (() => Promise<void>) | undefined;

  before(async function () {
    this.timeout(300_000);
    if (!existsSync(CHROMIUM)) loud(`${CHROMIUM} is missing (apt-get install -y chromium)`, this);
    const db = await freshDatabase(await requireService(this, 'postgres'), 'uibots');
    drop = db.drop;
    ensureUiBuilt();
    sys = await startLocalSystem({ env: { DATABASE_URL: db.url, NATS_URL: undefined, ESTAFETTE_WEBHOOK_TOKEN: 'ui-bots-token' }, timeoutMs: 90_000 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async function () {
    this.timeout(60_000);
    await browser?.close().catch(() => undefined);
    await sys?.stop();
    await drop?.().catch(() => undefined);
    repo?.remove();
  });

  it('the Bots tab lists a run with its event and status; its page shows the header and the log', async () => {
    repo = pushedRepo(sys!.url, sys!.token, 'team', 'botty');
    repo.commit({ '.estafette.yaml': MANIFEST }, 'A greeter bot');
    await repo.push();
    const PL = '/api/pipelines/local/team/botty';
    await until('the build', async () => ((await sys!.api(`${PL}/builds`)).body.items ?? []).find((b: any) => b.buildStatus === 'succeeded'));
    const run = await sys!.api(`${PL}/bots`, { method: 'POST', body: JSON.stringify({ name: 'greeter' }), headers: { 'content-type': 'application/json' } });
    expect(run.status, JSON.stringify(run.body)).to.equal(202);
    const bot = await until('the bot run', async () => ((await sys!.api(`${PL}/bots`)).body.items ?? []).find((b: any) => b.botStatus === 'succeeded'));

    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${sys!.url}/pipelines/local/team/botty/bots`);
    const row = page.locator(`tr[data-bot="${bot.id}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).to.equal('succeeded');
    expect(await row.locator('td[data-label="Event"]').innerText()).to.match(/^manual/);
    expect(await page.getByText('Bots', { exact: true }).count()).to.be.greaterThan(0);
    await shot(page, 'bots-tab');

    await row.getByRole('link', { name: 'greeter' }).click();
    await page.waitForURL(`**/pipelines/local/team/botty/bots/${bot.id}`);
    await page.locator('h1').filter({ hasText: 'greeter' }).waitFor();
    await page.getByText('hello from greeter').first().waitFor({ timeout: 30_000 });
    expect(await page.title()).to.match(/succeeded — bot greeter of team\/botty/);
    await shot(page, 'bot-run');
    await page.close();
  });
});
