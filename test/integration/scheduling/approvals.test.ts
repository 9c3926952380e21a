/**
 * Approval-gated releases on real PostgreSQL and NATS JetStream, with sign-in on (sessions as
 * bearer tokens): a release to a target with `approval` waits as awaiting-approval, a viewer and
 * the requester alone cannot approve, a second operator's approval queues and runs it, who
 * approved is recorded and returned; a reject ends a release; a release trigger waits the same
 * way; an approval expires on the tick after its deadline; users and groups rules; a single-user
 * install lets the requester approve.
 */
import { expect } from 'chai';
import { signSession, type Identity } from '../../../shared/auth/session.ts';
import type { AuthSettings } from '../../../shared/auth/settings.ts';
import type { Role } from '../../../shared/auth/roles.ts';
import { requireService } from '../../support/services.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { JWT_KEY, SchedulingHarness, type Repo } from './harness.ts';

const AUTH: AuthSettings = {
  enabled: true,
  jwtKey: JWT_KEY,
  baseUrl: 'http://ci.example.com',
  providers: [],
  clients: [],
  roles: { emails: { 'alice@example.com': 'operator', 'bob@example.com': 'operator', 'carol@example.com': 'viewer' }, groups: {}, defaultRole: 'viewer' },
};

const as = async (email: string, role: Role, groups: string[] = []): Promise<Record<string, string>> => {
  const who: Identity = { kind: 'user', email, name: email.split('@')[0]!, role, provider: 'test', ...(groups.length ? { groups } : {}) };
  return { authorization: `Bearer ${await signSession(JWT_KEY, who)}` };
};

const manifest = (approval: string, triggers = '') => `stages:
  build:
    image: alpine:3.20
    commands: [make]
releases:
  production:
    approval:
${approval.replace(/^/gm, '      ')}
${triggers}    stages:
      deploy:
        image: alpine:3.20
        commands: [deploy]
`;

describe('scheduling: approval-gated releases', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let natsUrl: string;
  let h: SchedulingHarness;
  let clock = new Date();

  before(async function () {
    natsUrl = await requireService(this, 'nats');
    db = await migratedDatabase(this);
  });
  after(async () => db?.close());
  beforeEach(async () => {
    clock = new Date();
    h = await SchedulingHarness.start(db, natsUrl, { auth: AUTH, now: () => clock });
    await h.addDispatch();
    h.runner.mode = { kind: 'auto', ms: 50 };
  });
  afterEach(async () => h?.stop());

  /** A repo whose main build succeeded; returns it and the version. */
  const built = async (m: string): Promise<{ r: Repo; version: string; base: string }> => {
    const r = h.repo('approve', m);
    await r.push('main');
    const [b] = await h.until('the build succeeded', async () => {
      const bs = await r.builds();
      return bs[0]?.buildStatus === 'succeeded' && bs;
    });
    return { r, version: b!.buildVersion, base: `/api/pipelines/local/team/${r.name}/releases` };
  };
  const requestRelease = async (base: string, version: string, who: Record<string, string>) => {
    const res = await h.api('POST', base, { name: 'production', releaseVersion: version }, who);
    // 201 with the release when dispatch made it within the API's wait, else 202 (docs/API.md).
    expect(res.status, JSON.stringify(res.body)).to.be.oneOf([201, 202]);
  };
  const waiting = async (r: Repo, n = 1) =>
    h.until('a release awaiting approval', async () => {
      const rs = (await r.releases()).filter((x) => x.releaseStatus === 'awaiting-approval');
      return rs.length >= n && rs[n - 1];
    });

  it('waits for approval; a viewer and the requester alone cannot approve; a second operator does, then it runs', async () => {
    const { r, version, base } = await built(manifest('required: 1\nroles: [operator]'));
    const alice = await as('alice@example.com', 'operator');
    const bob = await as('bob@example.com', 'operator');
    const carol = await as('carol@example.com', 'viewer');
    await requestRelease(base, version, alice);
    const rel = await waiting(r);
    expect(rel).to.include({ triggeredBy: 'alice@example.com', statusReason: '' });
    expect(rel.approval).to.deep.include({ required: 1, roles: ['operator'] });
    expect(h.runner.startCalls).to.not.include(`release/${rel.id}`);

    const seenByCarol = await h.api('GET', `${base}/${rel.id}/approvals`, undefined, carol);
    expect(seenByCarol.body).to.include({ canDecide: false, required: 1, approvals: 0, satisfied: false, requestedBy: 'alice@example.com' });
    expect(seenByCarol.body.whyNot).to.match(/needs the operator role; you are carol@example.com \(viewer\)/);
    const byCarol = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'approve' }, carol);
    expect(byCarol.status).to.equal(403);
    const byAlice = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'approve' }, alice);
    expect(byAlice.status).to.equal(403);
    expect(byAlice.body.message).to.match(/requester cannot be the only approver/);
    expect((await h.api('GET', `${base}/${rel.id}`, undefined, bob)).body.releaseStatus).to.equal('awaiting-approval');

    const byBob = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'approve', comment: 'ship it' }, bob);
    expect(byBob.status, JSON.stringify(byBob.body)).to.equal(200);
    expect(byBob.body).to.include({ satisfied: true, approvals: 1, releaseStatus: 'queued' });
    const done = await h.until('the release succeeded', async () => {
      const x = (await r.releases()).find((y) => y.id === rel.id);
      return x?.releaseStatus === 'succeeded' && x;
    });
    expect(done.startedAt).to.be.a('string');
    const shown = await h.api('GET', `${base}/${rel.id}/approvals`, undefined, carol);
    expect(shown.body.items).to.have.length(1);
    expect(shown.body.items[0]).to.include({ approver: 'bob@example.com', name: 'bob', decision: 'approve', comment: 'ship it', via: 'role operator' });
    expect(Date.parse(shown.body.items[0].decidedAt)).to.be.at.most(Date.parse(done.startedAt!));
    const again = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'approve' }, bob);
    expect(again.status).to.equal(409);
  });

  it('a reject ends the release with who and why; nothing runs', async () => {
    const { r, version, base } = await built(manifest('roles: [operator]'));
    await requestRelease(base, version, await as('alice@example.com', 'operator'));
    const rel = await waiting(r);
    const res = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'reject', comment: 'not on a Friday' }, await as('bob@example.com', 'operator'));
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ releaseStatus: 'canceled', statusReason: 'rejected by bob@example.com: not on a Friday' });
    await h.until('its release.finished', async () => h.seen.some((e) => e.name === 'release.finished' && e.data.releaseId === rel.id && e.data.status === 'canceled'));
    expect(h.runner.startCalls).to.not.include(`release/${rel.id}`);
    const late = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'approve' }, await as('alice@example.com', 'operator'));
    expect(late.status).to.equal(409);
    expect(late.body.message).to.match(/is canceled \(rejected by bob/);
    expect((await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'maybe' }, await as('bob@example.com', 'operator'))).status).to.equal(400);
  });

  it('required 2: the requester may be one of the two, but not alone', async () => {
    const { r, version, base } = await built(manifest('required: 2\nroles: [operator]'));
    const alice = await as('alice@example.com', 'operator');
    await requestRelease(base, version, alice);
    const rel = await waiting(r);
    const first = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'approve' }, alice);
    expect(first.body).to.include({ approvals: 1, satisfied: false, waitingFor: '1 more approval from someone other than the requester', releaseStatus: 'awaiting-approval' });
    const second = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'approve' }, await as('admin@example.com', 'administrator'));
    expect(second.body).to.include({ approvals: 2, satisfied: true, releaseStatus: 'queued' });
    expect(second.body.items.map((a: { via: string }) => a.via)).to.deep.equal(['role operator', 'role administrator']);
    await h.until('it ran', async () => (await r.releases()).find((x) => x.id === rel.id)?.releaseStatus === 'succeeded');
  });

  it('users and groups rules name who may approve', async () => {
    const { r, version, base } = await built(manifest('required: 1\nusers: [dave@example.com]\ngroups: [release-managers]'));
    await requestRelease(base, version, await as('alice@example.com', 'operator'));
    const rel = await waiting(r);
    const bob = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'approve' }, await as('bob@example.com', 'operator'));
    expect(bob.status).to.equal(403);
    expect(bob.body.message).to.match(/one of the users dave@example.com or a member of release-managers/);
    const erin = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'approve' }, await as('erin@example.com', 'viewer', ['release-managers']));
    expect(erin.status).to.equal(200);
    expect(erin.body.items[0]).to.include({ approver: 'erin@example.com', via: 'group release-managers' });
    await h.until('it ran', async () => (await r.releases()).find((x) => x.id === rel.id)?.releaseStatus === 'succeeded');
  });

  it('a release trigger waits for approval the same way', async () => {
    const triggers = '    triggers:\n    - pipeline:\n        name: self\n        branch: main\n';
    const r = h.repo('trigger', manifest('roles: [operator]', triggers));
    await r.push('main');
    const rel = await waiting(r);
    expect(rel).to.include({ triggeredBy: 'pipeline' });
    const ok = await h.api('POST', `/api/pipelines/local/team/${r.name}/releases/${rel.id}/approvals`, { decision: 'approve' }, await as('bob@example.com', 'operator'));
    expect(ok.body).to.include({ releaseStatus: 'queued', satisfied: true });
    await h.until('it ran', async () => (await r.releases()).find((x) => x.id === rel.id)?.releaseStatus === 'succeeded');
  });

  it('an approval not given in time expires on the next tick', async () => {
    const { r, version, base } = await built(manifest('roles: [operator]\nexpiresAfter: 1h'));
    await requestRelease(base, version, await as('alice@example.com', 'operator'));
    const rel = await waiting(r);
    expect(Date.parse(rel.approvalDeadline!) - clock.getTime()).to.equal(3_600_000);
    await h.publish('queue.advance', { reason: 'tick' }, { id: 'tick-1' });
    await h.until('the tick was handled', async () => h.seen.some((e) => e.id === 'tick-1'));
    expect((await r.releases()).find((x) => x.id === rel.id)?.releaseStatus).to.equal('awaiting-approval');
    clock = new Date(clock.getTime() + 2 * 3_600_000);
    await h.publish('queue.advance', { reason: 'tick' }, { id: 'tick-2' });
    const expired = await h.until('the release expired', async () => {
      const x = (await r.releases()).find((y) => y.id === rel.id);
      return x?.releaseStatus === 'canceled' && x;
    });
    expect(expired.statusReason).to.equal('approval expired: not approved within 1h');
    const late = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'approve' }, await as('bob@example.com', 'operator'));
    expect(late.status).to.equal(409);
  });
});

describe('scheduling: approvals without sign-in (one local user)', function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let natsUrl: string;
  let h: SchedulingHarness;
  before(async function () {
    natsUrl = await requireService(this, 'nats');
    db = await migratedDatabase(this);
  });
  after(async () => {
    await h?.stop();
    await db?.close();
  });

  it('the local user requests and approves alone: nobody else exists', async () => {
    h = await SchedulingHarness.start(db, natsUrl);
    await h.addDispatch();
    h.runner.mode = { kind: 'auto', ms: 30 };
    const r = h.repo('local', manifest('roles: [operator]'));
    await r.push('main');
    const [b] = await h.until('built', async () => {
      const bs = await r.builds();
      return bs[0]?.buildStatus === 'succeeded' && bs;
    });
    const base = `/api/pipelines/local/team/${r.name}/releases`;
    expect((await h.api('POST', base, { name: 'production', releaseVersion: b!.buildVersion })).status).to.be.oneOf([201, 202]);
    const rel = await h.until('awaiting', async () => (await r.releases()).find((x) => x.releaseStatus === 'awaiting-approval'));
    const res = await h.api('POST', `${base}/${rel.id}/approvals`, { decision: 'approve' });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.include({ satisfied: true, requesterExcluded: false });
    expect(res.body.items[0]).to.include({ approver: 'local', via: 'local' });
    await h.until('it ran', async () => (await r.releases()).find((x) => x.id === rel.id)?.releaseStatus === 'succeeded');
  });
});
