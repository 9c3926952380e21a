/**
 * Matching of `github:` / `bitbucket:` triggers against forge deliveries (issue 20): the event
 * name must be in `events` (exactly, as Estafette compares it), the forge must be the trigger's,
 * and `repository` — default `self`, else an anchored case-insensitive pattern as for git
 * triggers — must match the delivery's `source/owner/repo`.
 */
import { expect } from 'chai';
import { forgeTriggerMatches, normalizeTrigger, type ForgeEvent } from '../../../shared/manifest/triggers.ts';
import type { ManifestTrigger } from '../../../shared/manifest/types.ts';

const SELF = 'github.com/estafette/estafette-ci-api';
const bot = (t: ManifestTrigger) => normalizeTrigger(t, { kind: 'bot', bot: 'pr-bot' })!;
const gh = (event: string, repository = SELF): ForgeEvent => ({ forge: 'github', event, repository });

const cases: Array<{ name: string; trigger: ManifestTrigger; event: ForgeEvent; fires: boolean }> = [
  { name: 'a listed event of the repository itself (self by default)', trigger: { github: { events: ['pull_request', 'issue_comment'] } }, event: gh('issue_comment'), fires: true },
  { name: 'the repository in another case', trigger: { github: { events: ['pull_request'] } }, event: gh('pull_request', SELF.toUpperCase()), fires: true },
  { name: 'an event the list does not name', trigger: { github: { events: ['pull_request'] } }, event: gh('push'), fires: false },
  { name: 'an event that only starts like a listed one', trigger: { github: { events: ['pull_request'] } }, event: gh('pull_request_review'), fires: false },
  { name: 'another repository', trigger: { github: { events: ['pull_request'] } }, event: gh('pull_request', 'github.com/estafette/other'), fires: false },
  { name: 'a repository named by pattern', trigger: { github: { events: ['pull_request'], repository: 'github.com/estafette/.*' } }, event: gh('pull_request', 'github.com/estafette/other'), fires: true },
  { name: 'a repository excluded with !~', trigger: { github: { events: ['pull_request'], repository: '!~github.com/estafette/other' } }, event: gh('pull_request', 'github.com/estafette/other'), fires: false },
  { name: 'a Bitbucket delivery for a GitHub trigger', trigger: { github: { events: ['pullrequest:created'] } }, event: { forge: 'bitbucket', event: 'pullrequest:created', repository: SELF }, fires: false },
  { name: 'a Bitbucket delivery for a Bitbucket trigger', trigger: { bitbucket: { events: ['pullrequest:created'] } }, event: { forge: 'bitbucket', event: 'pullrequest:created', repository: SELF }, fires: true },
];

describe('forge triggers (github:, bitbucket:)', () => {
  cases.forEach((c) => it(`${c.fires ? 'fires' : 'does not fire'} on ${c.name}`, () => expect(forgeTriggerMatches(bot(c.trigger), c.event, SELF)).to.equal(c.fires)));

  it('normalises to events, repository self and the runs action of the bot', () => {
    expect(bot({ github: { events: ['pull_request'] } })).to.deep.equal({ filter: { kind: 'github', events: ['pull_request'], repository: 'self' }, action: { kind: 'runs', bot: 'pr-bot', branch: '' } });
  });
});
