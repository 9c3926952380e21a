/**
 * The bot rules of issue 20 through the public surface, run as a user runs them (a real
 * `node bin/estafette.js`): `estafette validate --json` reports a `github:`/`bitbucket:` trigger
 * without events and a bot without stages at their field paths; `estafette plan --json --bot`
 * gives the bot's plan (its stages only, ESTAFETTE_BOT_NAME, `--event github`) and lists its
 * trigger normalised as dispatch stores it (repository `self`, action `runs` of the bot).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliJson } from '../../support/cli.ts';

const BOTS = `
stages:
  build:
    image: alpine:3.20
    commands: ["true"]
bots:
  pr-bot:
    triggers:
    - github:
        events:
        - pull_request
        - issue_comment
    stages:
      welcome:
        image: alpine:3.20
        commands: ["echo $ESTAFETTE_BOT_NAME"]
  any-bot:
    triggers:
    - bitbucket:
        events: [pullrequest:created]
        repository: bitbucket.org/team/other
    stages:
      backup:
        image: alpine:3.20
`;

describe('bots through estafette validate and plan (CLI)', function () {
  this.timeout(60_000);
  let tmp: string;
  const file = (name: string, text: string) => {
    const path = join(tmp, name);
    writeFileSync(path, text);
    return path;
  };
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'estafette-bots-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const invalid: Array<{ name: string; yaml: string; field: string; message: RegExp }> = [
    {
      name: 'a github trigger without events',
      yaml: 'bots:\n  b:\n    triggers:\n    - github: {}\n    stages:\n      s:\n        image: alpine:3\n',
      field: 'bots.b.triggers[0].github.events',
      message: /at least one github event/,
    },
    {
      name: 'a bitbucket trigger with an empty event list',
      yaml: 'bots:\n  b:\n    triggers:\n    - bitbucket:\n        events: []\n    stages:\n      s:\n        image: alpine:3\n',
      field: 'bots.b.triggers[0].bitbucket.events',
      message: /at least one bitbucket event/,
    },
    { name: 'a bot without stages', yaml: 'bots:\n  b:\n    triggers:\n    - github:\n        events: [pull_request]\n', field: 'bots.b.stages', message: /at least one stage/ },
  ];
  invalid.forEach((c) =>
    it(`validate --json: ${c.name} is an error at ${c.field}`, () => {
      const r = cli(['validate', '--json', file(`${c.field}.yaml`, `stages:\n  a:\n    image: alpine:3\n${c.yaml}`)]);
      expect(r.code).to.equal(1);
      const e = (JSON.parse(r.stdout).errors as Array<{ field: string; message: string }>).find((x) => x.field === c.field);
      expect(e, r.stdout).to.not.equal(undefined);
      expect(e!.message).to.match(c.message);
    }),
  );

  it('validate --json: bots with github and bitbucket triggers are valid', () => {
    const r = cli(['validate', '--json', file('bots.yaml', BOTS)]);
    expect(r.code, r.stdout).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.include({ valid: true, errors: [] });
  });

  it('plan --json --bot --event github: the bot stages with ESTAFETTE_BOT_NAME and its triggers as dispatch stores them', () => {
    const { json } = cliJson(['plan', file('.estafette.yaml', BOTS), '--json', '--bot', 'pr-bot', '--event', 'github']);
    expect(json.plan).to.include({ kind: 'bot', name: 'pr-bot', event: 'github' });
    expect(json.plan.stages.map((s: { name: string }) => s.name)).to.deep.equal(['welcome']);
    expect(json.plan.estafetteEnv).to.include({ ESTAFETTE_BOT_NAME: 'pr-bot', ESTAFETTE_TRIGGER_EVENT: 'github' });
    expect(json.plan.bots).to.deep.equal(['pr-bot', 'any-bot']);
    const bots = (json.plan.triggers as Array<{ scope: string }>).filter((t) => t.scope === 'bot');
    expect(bots).to.deep.equal([
      { scope: 'bot', job: 'pr-bot', field: 'bots.pr-bot.triggers[0]', filter: { kind: 'github', events: ['pull_request', 'issue_comment'], repository: 'self' }, action: { kind: 'runs', bot: 'pr-bot', branch: '' } },
      {
        scope: 'bot',
        job: 'any-bot',
        field: 'bots.any-bot.triggers[0]',
        filter: { kind: 'bitbucket', events: ['pullrequest:created'], repository: 'bitbucket.org/team/other' },
        action: { kind: 'runs', bot: 'any-bot', branch: '' },
      },
    ]);
  });
});
