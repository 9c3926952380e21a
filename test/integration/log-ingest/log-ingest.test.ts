/**
 * log-ingest over real HTTP against real PostgreSQL and NATS: idempotent, ordered storage of
 * shuffled and repeated batches; job-token authorisation; the bad-input table (nothing
 * half-written); status reports through the state machine with started/finished events and
 * live messages after the write.
 */
import { expect } from 'chai';
import { signJobToken } from '../../../shared/auth/job-token.ts';
import { createRelease, getRelease } from '../../../shared/db/releases.ts';
import { getBuild, transitionBuildStatus } from '../../../shared/db/builds.ts';
import { readLogLines } from '../../../shared/db/logs.ts';
import { listStageRuns } from '../../../shared/db/stages.ts';
import type { LiveMessage } from '../../../shared/logs/protocol.ts';
import { MAX_BATCH_LINES } from '../../../shared/logs/protocol.ts';
import { bearer, JWT_KEY, lines, post, seed, startHarness, type Harness } from '../query-api/harness.ts';

describe('log-ingest (HTTP, PostgreSQL, NATS)', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async function () {
    h = await startHarness(this);
  });
  after(async () => h?.stop());

  const logsUrl = (kind: string, id: string) => `${h.ingestUrl}/api/ingest/${kind}s/${id}/logs`;
  const statusUrl = (kind: string, id: string) => `${h.ingestUrl}/api/ingest/${kind}s/${id}/status`;

  it('accepts a builder heartbeat with the job token, refuses a malformed one (400) and one without the token (401)', async () => {
    const { builds } = await seed(h.pool, 'heartbeat', [{ status: 'running' }]);
    const id = builds[0]!.id;
    const url = `${h.ingestUrl}/api/ingest/builds/${id}/heartbeat`;
    expect((await post(url, { sentAt: new Date().toISOString() }, await bearer('build', id))).status).to.equal(202);
    expect((await post(url, { sentAt: 'now' }, await bearer('build', id))).status).to.equal(400);
    expect((await post(url, { sentAt: new Date().toISOString() }, {})).status).to.equal(401);
  });

  it('records every report of a builder (logs, status, heartbeat) as its heartbeat_at, which housekeeping reads', async () => {
    const { builds } = await seed(h.pool, 'beats', [{ status: 'running' }, { status: 'running' }, { status: 'running' }]);
    const heartbeatAt = async (id: string): Promise<Date | null> => (await h.pool.query('SELECT heartbeat_at FROM builds WHERE id = $1', [id])).rows[0].heartbeat_at;
    const [a, b, c] = builds.map((x) => x.id);
    for (const id of [a!, b!, c!]) expect(await heartbeatAt(id), 'before any report').to.equal(null);
    const before = Date.now() - 1000;
    expect((await post(logsUrl('build', a!), { lines: lines(0, 2) }, await bearer('build', a!))).status).to.equal(202);
    expect((await post(statusUrl('build', b!), { stages: [{ stage: 's', run: 1, kind: 'stage', status: 'running' }] }, await bearer('build', b!))).status).to.equal(202);
    expect((await post(`${h.ingestUrl}/api/ingest/builds/${c}/heartbeat`, { sentAt: new Date().toISOString() }, await bearer('build', c!))).status).to.equal(202);
    for (const id of [a!, b!, c!]) expect((await heartbeatAt(id))?.getTime(), `heartbeat_at of ${id}`).to.be.greaterThan(before);
  });

  it('stores shuffled, repeated and concurrent batches once each, read back in seq order', async () => {
    const { builds } = await seed(h.pool, 'shuffle', [{ status: 'running' }]);
    const id = builds[0]!.id;
    const all = lines(0, 1200);
    const batches: (typeof all)[] = [];
    for (let i = 0; i < all.length; ) {
      const n = 1 + Math.floor(Math.random() * 90);
      batches.push(all.slice(i, i + n).sort(() => Math.random() - 0.5)); // order inside a batch shuffled too
      i += n;
    }
    const sends = [...batches, ...batches.filter((_, i) => i % 3 === 0)].sort(() => Math.random() - 0.5);
    const headers = await bearer('build', id);
    for (let i = 0; i < sends.length; i += 4) {
      const res = await Promise.all(sends.slice(i, i + 4).map((b) => post(logsUrl('build', id), { lines: b }, headers)));
      for (const r of res) expect(r.status).to.equal(202);
    }
    const stored = await readLogLines(h.pool, 'build', id, { limit: 50_000 });
    expect(stored.map((l) => l.seq)).to.deep.equal(all.map((l) => l.seq));
    expect(stored).to.deep.equal(all);
    // A resend reports that nothing new was stored.
    const again = await post(logsUrl('build', id), { lines: batches[0] }, headers);
    expect(again.body).to.deep.equal({ accepted: batches[0]!.length, stored: 0 });
  });

  it("stores any text exactly: tabs, newlines, backslashes, COPY's end marker, non-ASCII; NUL becomes U+FFFD", async () => {
    const { builds } = await seed(h.pool, 'texts', [{ status: 'running' }]);
    const id = builds[0]!.id;
    const texts = ['a\tb', 'line\nbreak\r\n', 'back\\slash \\N \\t', '\\.', '', '   ', 'ünïcödé ✓ 🚀', '\u001b[31mred\u001b[0m', 'x'.repeat(64 * 1024), 'nul\u0000byte'];
    const batch = texts.map((text, seq) => ({ ...lines(seq, 1)[0]!, text, stage: seq === 3 ? 'build/with\ttab' : 'build' }));
    expect((await post(logsUrl('build', id), { lines: batch }, await bearer('build', id))).body).to.deep.equal({ accepted: texts.length, stored: texts.length });
    const stored = await readLogLines(h.pool, 'build', id);
    expect(stored.map((l) => l.text)).to.deep.equal([...texts.slice(0, -1), 'nul\uFFFDbyte']);
    expect(stored[3]!.stage).to.equal('build/with\ttab');
    // A batch overlapping stored lines (COPY refuses it whole) is stored through the fallback.
    const overlap = await post(logsUrl('build', id), { lines: [...batch.slice(8, 10), ...lines(10, 5)] }, await bearer('build', id));
    expect(overlap.body).to.deep.equal({ accepted: 7, stored: 5 });
    expect((await readLogLines(h.pool, 'build', id)).map((l) => l.seq)).to.deep.equal([...Array(15).keys()]);
  });

  it('publishes an accepted batch on live logs after storing it', async () => {
    const { builds } = await seed(h.pool, 'live', [{ status: 'running' }]);
    const id = builds[0]!.id;
    const got: LiveMessage[] = [];
    let storedWhenPublished = -1;
    const off = h.viewerLogs.subscribe('build', id, (m) => {
      got.push(m);
      void readLogLines(h.pool, 'build', id).then((l) => (storedWhenPublished = l.length));
    });
    await new Promise((r) => setTimeout(r, 100));
    expect((await post(logsUrl('build', id), { lines: lines(0, 5) }, await bearer('build', id))).status).to.equal(202);
    for (let i = 0; i < 50 && (got.length === 0 || storedWhenPublished < 0); i++) await new Promise((r) => setTimeout(r, 20));
    off();
    expect(got[0]!.lines!.map((l) => l.seq)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(storedWhenPublished).to.equal(5);
  });

  describe('authorisation', () => {
    const cases: Array<{ name: string; headers: (buildId: string, otherId: string) => Promise<Record<string, string>> }> = [
      { name: 'no token', headers: async () => ({}) },
      { name: 'not a bearer token', headers: async (id) => ({ authorization: `Basic ${Buffer.from(`x:${id}`).toString('base64')}` }) },
      { name: 'garbage token', headers: async () => ({ authorization: 'Bearer not.a.jwt' }) },
      { name: 'token signed with another key', headers: async (id) => ({ authorization: `Bearer ${await signJobToken('other-key', { kind: 'build', id })}` }) },
      { name: 'expired token', headers: async (id) => ({ authorization: `Bearer ${await signJobToken(JWT_KEY, { kind: 'build', id }, -10)}` }) },
      { name: 'token of another build', headers: async (_id, other) => bearer('build', other) },
      { name: 'token of a release with the same id', headers: async (id) => bearer('release', id) },
    ];
    cases.forEach((c) =>
      it(`refuses ${c.name} with 401 and writes nothing`, async () => {
        const { builds } = await seed(h.pool, `auth-${c.name.replace(/\W+/g, '-')}`, [{ status: 'running' }, { status: 'running' }]);
        const [a, b] = builds.map((x) => x.id);
        const headers = await c.headers(a!, b!);
        const r1 = await post(logsUrl('build', a!), { lines: lines(0, 3) }, headers);
        const r2 = await post(statusUrl('build', a!), { status: 'succeeded' }, headers);
        expect([r1.status, r2.status]).to.deep.equal([401, 401]);
        expect(r1.body.status).to.equal(401);
        expect(await readLogLines(h.pool, 'build', a!)).to.have.length(0);
        expect((await getBuild(h.pool, a!))!.buildStatus).to.equal('running');
      }),
    );
  });

  describe('bad input', () => {
    const line = lines(0, 1)[0]!;
    const cases: Array<{ name: string; body: unknown; status: number; message: RegExp }> = [
      { name: 'malformed JSON', body: '{"lines": [', status: 400, message: /not valid JSON/ },
      { name: 'array body', body: '[]', status: 400, message: /JSON object/ },
      { name: 'lines missing', body: {}, status: 400, message: /lines must be an array/ },
      { name: 'line not an object', body: { lines: [line, 'x'] }, status: 400, message: /lines\[1\] must be an object/ },
      { name: 'negative seq', body: { lines: [line, { ...line, seq: -1 }] }, status: 400, message: /lines\[1\]\.seq/ },
      { name: 'fractional seq', body: { lines: [line, { ...line, seq: 1.5 }] }, status: 400, message: /seq must be an integer/ },
      { name: 'seq as string', body: { lines: [line, { ...line, seq: '2' }] }, status: 400, message: /seq must be an integer/ },
      { name: 'run 0', body: { lines: [line, { ...line, seq: 1, run: 0 }] }, status: 400, message: /run must be/ },
      { name: 'empty stage', body: { lines: [line, { ...line, seq: 1, stage: '' }] }, status: 400, message: /stage must be/ },
      // PostgreSQL cannot store a NUL: a 400 naming the field, not a 500 from the insert.
      { name: 'NUL in a stage name', body: { lines: [line, { ...line, seq: 1, stage: 'bu\u0000ild' }] }, status: 400, message: /lines\[1\]\.stage must be .* without NUL/ },
      { name: 'bad stream', body: { lines: [line, { ...line, seq: 1, stream: 'stdin' }] }, status: 400, message: /stream must be one of stdout, stderr/ },
      { name: 'bad time', body: { lines: [line, { ...line, seq: 1, time: 'yesterday' }] }, status: 400, message: /time must be/ },
      { name: 'text not a string', body: { lines: [line, { ...line, seq: 1, text: 42 }] }, status: 400, message: /text must be a string/ },
      { name: 'text too long', body: { lines: [line, { ...line, seq: 1, text: 'x'.repeat(64 * 1024 + 1) }] }, status: 413, message: /longer than/ },
      { name: 'too many lines', body: { lines: lines(0, MAX_BATCH_LINES + 1) }, status: 413, message: /over the limit of 5000/ },
      { name: 'body over 4 MiB', body: { lines: lines(0, 70).map((l) => ({ ...l, text: 'y'.repeat(60_000) })) }, status: 413, message: /larger than/ },
    ];
    cases.forEach((c) =>
      it(`${c.name} → ${c.status}, nothing stored`, async () => {
        const { builds } = await seed(h.pool, `bad-${c.name.replace(/\W+/g, '-')}`, [{ status: 'running' }]);
        const id = builds[0]!.id;
        const r = await post(logsUrl('build', id), c.body, await bearer('build', id));
        expect(r.status).to.equal(c.status);
        expect(r.body).to.include({ status: c.status });
        expect(r.body.message).to.match(c.message);
        expect(await readLogLines(h.pool, 'build', id)).to.have.length(0);
      }),
    );

    const statusCases: Array<{ name: string; body: unknown; message: RegExp }> = [
      { name: 'empty report', body: {}, message: /needs a status or stages/ },
      { name: 'unknown status', body: { status: 'done' }, message: /not a job status/ },
      { name: 'stages not an array', body: { stages: {} }, message: /stages must be an array/ },
      { name: 'stage without kind', body: { stages: [{ stage: 'build', run: 1, status: 'running' }] }, message: /kind must be one of/ },
      { name: 'stage with a bad status', body: { stages: [{ stage: 'build', run: 1, kind: 'stage', status: 'canceling' }] }, message: /not a stage status/ },
      { name: 'stage with a bad time', body: { status: 'succeeded', stages: [{ stage: 'build', run: 1, kind: 'stage', status: 'succeeded', startedAt: 'soon' }] }, message: /startedAt/ },
      { name: 'negative duration', body: { stages: [{ stage: 'build', run: 1, kind: 'stage', status: 'succeeded', durationMs: -1 }] }, message: /durationMs/ },
      { name: 'NUL in a stage name', body: { stages: [{ stage: 'bu\u0000ild', run: 1, kind: 'stage', status: 'running' }] }, message: /stages\[0\]\.stage must be .* without NUL/ },
      { name: 'NUL in a parent stage', body: { stages: [{ stage: 'build', parent: 'p\u0000', run: 1, kind: 'stage', status: 'running' }] }, message: /stages\[0\]\.parent must be a stage path/ },
    ];
    statusCases.forEach((c) =>
      it(`status report: ${c.name} → 400, nothing changed`, async () => {
        const { builds } = await seed(h.pool, `bads-${c.name.replace(/\W+/g, '-')}`, [{ status: 'running' }]);
        const id = builds[0]!.id;
        const r = await post(statusUrl('build', id), c.body, await bearer('build', id));
        expect(r.status).to.equal(400);
        expect(r.body.message).to.match(c.message);
        expect((await getBuild(h.pool, id))!.buildStatus).to.equal('running');
        expect(await listStageRuns(h.pool, 'build', id)).to.have.length(0);
      }),
    );

    it('unknown build → 404 (with a valid token for that id)', async () => {
      const id = '999999999999';
      const r = await post(logsUrl('build', id), { lines: lines(0, 1) }, await bearer('build', id));
      expect(r).to.deep.include({ status: 404 });
      expect(r.body.message).to.equal(`build ${id} not found`);
      expect((await post(statusUrl('release', id), { status: 'running' }, await bearer('release', id))).status).to.equal(404);
    });

    it('a path that is not a job → 404; GET → 405', async () => {
      expect((await post(`${h.ingestUrl}/api/ingest/builds/abc/logs`, { lines: [] })).status).to.equal(404);
      expect((await post(`${h.ingestUrl}/api/ingest/pipelines/1/logs`, { lines: [] })).status).to.equal(404);
      expect((await fetch(`${h.ingestUrl}/api/ingest/builds/1/logs`)).status).to.equal(405);
    });
  });

  describe('status reports', () => {
    it('running → stages → succeeded: state machine, stage runs, started/finished events, live status', async () => {
      const { builds } = await seed(h.pool, 'status', [{ status: 'pending' }]);
      const id = builds[0]!.id;
      const headers = await bearer('build', id);
      const live: LiveMessage[] = [];
      const off = h.viewerLogs.subscribe('build', id, (m) => live.push(m));
      await new Promise((r) => setTimeout(r, 100));
      const before = h.published.length;

      expect((await post(statusUrl('build', id), { status: 'running', stages: [{ stage: 'build', run: 1, kind: 'stage', status: 'running', startedAt: '2026-01-01T00:00:00Z' }] }, headers)).status).to.equal(202);
      expect((await getBuild(h.pool, id))!.buildStatus).to.equal('running');
      const final = { status: 'succeeded', stages: [{ stage: 'build', run: 1, kind: 'stage', status: 'succeeded', finishedAt: '2026-01-01T00:00:05Z', durationMs: 5000, message: 'exit code 0' }] };
      const r = await post(statusUrl('build', id), final, headers);
      expect(r).to.deep.include({ status: 202 });
      expect(r.body).to.deep.equal({ status: 'succeeded' });
      // The job is final: its token writes nothing more. The final report sent again (its answer
      // was lost) is acknowledged as a duplicate, so the builder counts it delivered, and writes nothing.
      const resent = await post(statusUrl('build', id), { ...final, stages: [{ ...final.stages[0], message: 'changed' }] }, headers);
      expect([resent.status, resent.body]).to.deep.equal([202, { status: 'succeeded', duplicate: true }]);
      const other = await post(statusUrl('build', id), { status: 'failed' }, headers);
      expect([other.status, other.body]).to.deep.equal([409, { status: 409, message: `build ${id} is already succeeded: it accepts no more log lines or reports` }]);

      const b = (await getBuild(h.pool, id))!;
      expect(b.buildStatus).to.equal('succeeded');
      expect(await listStageRuns(h.pool, 'build', id)).to.deep.equal([
        { stage: 'build', parent: null, kind: 'stage', run: 1, status: 'succeeded', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:05.000Z', durationMs: 5000, message: 'exit code 0' },
      ]);
      const events = h.published.slice(before);
      expect(events.map((e) => e.name)).to.deep.equal(['build.started', 'build.finished']);
      expect(events[1]!.data).to.deep.equal({
        repoSource: 'github.com',
        repoOwner: 'estafette',
        repoName: 'status',
        buildId: id,
        branch: 'main',
        revision: b.repoRevision,
        version: b.buildVersion,
        chainDepth: 2,
        status: 'succeeded',
      });
      expect(events[1]!.id).to.not.equal(events[0]!.id);
      for (let i = 0; i < 50 && live.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      off();
      expect(live.map((m) => m.status?.status)).to.deep.equal(['running', 'succeeded']);
    });

    it('a builder stopped without an API cancel reports canceled while running: the build ends canceled via canceling', async () => {
      const { builds } = await seed(h.pool, 'sigterm', [{ status: 'running' }]);
      const id = builds[0]!.id;
      const before = h.published.length;
      const r = await post(statusUrl('build', id), { status: 'canceled' }, await bearer('build', id));
      expect(r).to.deep.include({ status: 202 });
      expect((await getBuild(h.pool, id))!.buildStatus).to.equal('canceled');
      expect(h.published.slice(before).map((e) => [e.name, (e.data as { status?: string }).status])).to.deep.equal([['build.finished', 'canceled']]);
    });

    it('an illegal transition → 409 and the stage runs of that report are not written', async () => {
      const { builds } = await seed(h.pool, 'illegal', [{ status: 'pending' }]);
      const id = builds[0]!.id;
      const before = h.published.length;
      const r = await post(statusUrl('build', id), { status: 'succeeded', stages: [{ stage: 'x', run: 1, kind: 'stage', status: 'running' }] }, await bearer('build', id));
      expect(r.status).to.equal(409);
      expect(r.body.message).to.equal(`build ${id} cannot go from pending to succeeded`);
      expect(await listStageRuns(h.pool, 'build', id)).to.have.length(0);
      expect(h.published.length).to.equal(before);
    });

    // A job's token ends with the job: whether its builder reported the end or the system ended it
    // (reconciled as dead, canceled), a late builder's lines, reports and heartbeats are refused.
    (['succeeded', 'failed', 'canceled'] as const).forEach((final) =>
      it(`once a build is ${final}, its lines, reports and heartbeats → 409 and nothing is written`, async () => {
        const { builds } = await seed(h.pool, `final-${final}`, [{ status: 'running' }]);
        const id = builds[0]!.id;
        const headers = await bearer('build', id);
        expect((await post(logsUrl('build', id), { lines: lines(0, 2, 'build') }, headers)).status).to.equal(202);
        if (final === 'canceled') await transitionBuildStatus(h.pool, id, 'canceling');
        await transitionBuildStatus(h.pool, id, final, { reason: 'ended by the system' });
        const before = h.published.length;
        const message = `build ${id} is already ${final}: it accepts no more log lines or reports`;
        const late = [
          await post(logsUrl('build', id), { lines: lines(2, 3, 'build') }, headers),
          await post(statusUrl('build', id), { stages: [{ stage: 'build', run: 1, kind: 'stage', status: 'succeeded' }] }, headers),
          // A builder's own final report that disagrees with the system's end.
          await post(statusUrl('build', id), { status: final === 'failed' ? 'succeeded' : 'failed' }, headers),
          await post(`${h.ingestUrl}/api/ingest/builds/${id}/heartbeat`, { sentAt: new Date().toISOString() }, headers),
          // Again, now from this instance's memory of final jobs.
          await post(logsUrl('build', id), { lines: lines(5, 1, 'build') }, headers),
        ];
        expect(late.map((r) => [r.status, r.body.message])).to.deep.equal(late.map(() => [409, message]));
        expect((await readLogLines(h.pool, 'build', id)).map((l) => l.seq)).to.deep.equal([0, 1]);
        expect(await listStageRuns(h.pool, 'build', id)).to.have.length(0);
        expect((await getBuild(h.pool, id))!.buildStatus).to.equal(final);
        expect(h.published.length).to.equal(before);
      }),
    );

    it('once a release is final, its lines → 409', async () => {
      const { pipeline, builds } = await seed(h.pool, 'rel-final', [{ status: 'succeeded' }]);
      const { release } = await createRelease(h.pool, {
        pipelineId: pipeline.id,
        repoSource: 'github.com',
        repoOwner: 'estafette',
        repoName: 'rel-final',
        name: 'staging',
        action: 'deploy',
        version: builds[0]!.buildVersion,
        buildId: builds[0]!.id,
        chainDepth: 1,
      });
      const headers = await bearer('release', release.id);
      expect((await post(statusUrl('release', release.id), { status: 'running' }, headers)).status).to.equal(202);
      expect((await post(statusUrl('release', release.id), { status: 'failed' }, headers)).status).to.equal(202);
      const r = await post(logsUrl('release', release.id), { lines: lines(0, 1, 'deploy') }, headers);
      expect([r.status, r.body.message]).to.deep.equal([409, `release ${release.id} is already failed: it accepts no more log lines or reports`]);
      expect(await readLogLines(h.pool, 'release', release.id)).to.have.length(0);
    });

    it('releases: running and failed emit release.started / release.finished', async () => {
      const { pipeline, builds } = await seed(h.pool, 'rel', [{ status: 'succeeded' }]);
      const { release } = await createRelease(h.pool, {
        pipelineId: pipeline.id,
        repoSource: 'github.com',
        repoOwner: 'estafette',
        repoName: 'rel',
        name: 'staging',
        action: 'deploy',
        version: builds[0]!.buildVersion,
        buildId: builds[0]!.id,
        chainDepth: 1,
      });
      const headers = await bearer('release', release.id);
      const before = h.published.length;
      expect((await post(statusUrl('release', release.id), { status: 'running' }, headers)).status).to.equal(202);
      expect((await post(logsUrl('release', release.id), { lines: lines(0, 3, 'deploy') }, headers)).status).to.equal(202);
      expect((await post(statusUrl('release', release.id), { status: 'failed' }, headers)).status).to.equal(202);
      expect((await getRelease(h.pool, release.id))!.releaseStatus).to.equal('failed');
      expect(await readLogLines(h.pool, 'release', release.id)).to.have.length(3);
      const events = h.published.slice(before);
      expect(events.map((e) => e.name)).to.deep.equal(['release.started', 'release.finished']);
      expect(events[1]!.data).to.deep.equal({
        repoSource: 'github.com',
        repoOwner: 'estafette',
        repoName: 'rel',
        releaseId: release.id,
        name: 'staging',
        action: 'deploy',
        version: builds[0]!.buildVersion,
        chainDepth: 1,
        status: 'failed',
      });
    });
  });
});
