/**
 * query-api routes for daily use, over real HTTP against real PostgreSQL: the plain-text log
 * (`logs.txt`, streamed, stage headers, ANSI stripped unless asked, stage filter, download),
 * log search (`logs?q=` over a 100k-line log), response compression (br/gzip negotiation for
 * JSON, streams, SSE and static files), the release stats period, the planned stage list with
 * pending and reused stages, re-run of failed stages, finding a build by its request event,
 * time-left estimates, the pipelines list's last-build details and triggers in words.
 */
import { expect } from 'chai';
import { request } from 'node:http';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, createBrotliDecompress, createGunzip, gunzipSync } from 'node:zlib';
import { derivedEventId } from '../../../shared/triggers/fire-triggers.ts';
import { createBuild, setBuildPlan, transitionBuildStatus, type Build } from '../../../shared/db/builds.ts';
import { appendLogLines } from '../../../shared/db/logs.ts';
import type { Pipeline } from '../../../shared/db/pipelines.ts';
import { createRelease, transitionReleaseStatus } from '../../../shared/db/releases.ts';
import { upsertStageRuns } from '../../../shared/db/stages.ts';
import { claimCronFiring, replaceTriggers } from '../../../shared/db/triggers.ts';
import type { LogLine } from '../../../shared/logs/protocol.ts';
import type { Plan, PlanStage } from '../../../shared/plan/types.ts';
import { get, post, seed, startHarness, type Harness } from './harness.ts';

/** A GET with the bytes as sent (no automatic decompression, unlike fetch). */
function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const decode = (r: { headers: Record<string, string | string[] | undefined>; body: Buffer }): string =>
  (r.headers['content-encoding'] === 'br' ? brotliDecompressSync(r.body) : r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body).toString('utf8');

const line = (seq: number, stage: string, text: string, stream: LogLine['stream'] = 'stdout', run = 1): LogLine => ({
  seq,
  stage,
  run,
  stream,
  text,
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, seq)).toISOString(),
});

const stage = (name: string, extra: Partial<PlanStage> = {}): PlanStage => ({
  name,
  image: 'alpine',
  shell: '/bin/sh',
  workDir: '/w',
  commands: ['true'],
  runCommandsInForeground: false,
  when: '',
  env: {},
  retries: 0,
  parallelStages: [],
  services: [],
  customProperties: {},
  ...extra,
});

describe('query-api for daily use: raw logs, search, compression, stats period, stages, re-run (HTTP, PostgreSQL)', function () {
  this.timeout(120_000);
  let h: Harness;
  let dir: string;
  let pipeline: Pipeline;
  let builds: Build[];
  const PL = '/api/pipelines/github.com/estafette/daily';
  const api = (path: string) => `${h.apiUrl}${path}`;

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'ui-daily-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), `<!doctype html><title>Estafette</title>${'<!-- padding -->'.repeat(100)}`);
    await writeFile(join(dir, 'assets', 'app-5678.js'), `console.log(${JSON.stringify('x'.repeat(5000))});`);
    h = await startHarness(this, { staticDir: dir });
    ({ pipeline, builds } = await seed(h.pool, 'daily', [
      { status: 'failed', version: '1.0.0' },
      { status: 'succeeded', version: '1.0.1' },
      { status: 'running', version: '1.0.2' },
    ]));
    const failed = builds[0]!;
    await upsertStageRuns(h.pool, 'build', failed.id, [
      { stage: 'prepare', run: 1, kind: 'stage', status: 'succeeded', durationMs: 1200 },
      { stage: 'test', run: 1, kind: 'stage', status: 'failed', durationMs: 300, message: 'exit code 2' },
    ]);
    await appendLogLines(h.pool, 'build', failed.id, [
      line(0, 'prepare', '> make deps'),
      line(1, 'prepare', '\u001b[32mdeps OK\u001b[0m'),
      line(2, 'test', '> make test'),
      line(3, 'test', 'FAIL: TestParse (0.01s)', 'stderr'),
      line(4, 'test', 'estafette: exit code 2', 'stderr'),
    ]);
  });
  after(async () => {
    await h?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('GET …/builds/:id/logs.txt and …/releases/:id/logs.txt', () => {
    it('is the whole log as plain text: a title, a header per stage, ANSI stripped', async () => {
      const r = await get(api(`${PL}/builds/${builds[0]!.id}/logs.txt`));
      expect(r.status).to.equal(200);
      expect(r.headers.get('content-type')).to.equal('text/plain; charset=utf-8');
      expect(r.headers.get('content-disposition')).to.equal(null);
      expect(r.body).to.equal(
        [
          `Build 1.0.0 (#1) of github.com/estafette/daily, branch main at 00aaaaa: failed`,
          '=== prepare: succeeded in 1.2s ===',
          '> make deps',
          'deps OK',
          '',
          '=== test: failed in 0.3s ===',
          '> make test',
          'FAIL: TestParse (0.01s)',
          'estafette: exit code 2',
          '',
        ].join('\n'),
      );
    });

    it('keeps the colours with ?ansi=1, one stage with ?stage=, and offers a file name with ?download=1', async () => {
      const id = builds[0]!.id;
      expect((await get(api(`${PL}/builds/${id}/logs.txt?ansi=1`))).body).to.include('\u001b[32mdeps OK\u001b[0m\n');
      const only = await get(api(`${PL}/builds/${id}/logs.txt?stage=test`));
      expect(only.body).to.not.include('make deps');
      expect(only.body).to.include('=== test: failed in 0.3s ===\n> make test\n');
      const dl = await get(api(`${PL}/builds/${id}/logs.txt?download=1`));
      expect(dl.headers.get('content-disposition')).to.equal('attachment; filename="daily-1.0.0-build-1.log"');
      expect((await get(api(`${PL}/builds/${id}/logs.txt?ansi=maybe`))).status).to.equal(400);
      expect((await get(api(`/api/pipelines/github.com/estafette/nope/builds/${id}/logs.txt`))).status).to.equal(404);
    });

    it('streams a log longer than one database page in seq order, with a header wherever the stage changes', async () => {
      const {
        builds: [big],
      } = await seed(h.pool, 'big-text', [{ status: 'succeeded' }]);
      const n = 12_345;
      const all = Array.from({ length: n }, (_, i) => line(i, i < 6000 ? 'one' : i < 9000 ? 'two/a' : 'two/b', `row ${i}`));
      await appendLogLines(h.pool, 'build', big!.id, all);
      const r = await get(api(`/api/pipelines/github.com/estafette/big-text/builds/${big!.id}/logs.txt`));
      const rows = (r.body as string).split('\n').filter((l) => l.startsWith('row '));
      expect(rows).to.have.length(n);
      expect(rows.every((l, i) => l === `row ${i}`)).to.equal(true);
      expect((r.body as string).match(/^=== .* ===$/gm)).to.deep.equal(['=== one ===', '=== two/a ===', '=== two/b ===']);
    });

    it('exists for releases too', async () => {
      const release = (await createRelease(h.pool, { pipelineId: pipeline.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'daily', name: 'production', version: '1.0.1' })).release;
      await appendLogLines(h.pool, 'release', release.id, [line(0, 'deploy', 'deploying'), line(1, 'deploy', 'done')]);
      const r = await get(api(`${PL}/releases/${release.id}/logs.txt`));
      expect(r.body).to.equal('Release 1.0.1 of github.com/estafette/daily to production: pending\n=== deploy ===\ndeploying\ndone\n');
    });
  });

  describe('GET …/loglines?q=: search over the whole log', () => {
    let bigId: string;
    const BIG = '/api/pipelines/github.com/estafette/big-search';
    before(async () => {
      const {
        builds: [big],
      } = await seed(h.pool, 'big-search', [{ status: 'succeeded' }]);
      bigId = big!.id;
      const all = Array.from({ length: 100_000 }, (_, i) =>
        line(i, i < 50_000 ? 'build' : 'test', i === 87_654 ? 'panic: \u001b[1;31mNeedle\u001b[0m in the haystack' : i % 10_000 === 5 ? `checkpoint ${i}` : `ordinary line ${i}`, i === 87_654 ? 'stderr' : 'stdout'),
      );
      for (let i = 0; i < all.length; i += 20_000) await appendLogLines(h.pool, 'build', bigId, all.slice(i, i + 20_000));
    });

    it('finds a line anywhere in a 100k-line log, case-insensitive, across colour codes', async () => {
      const r = await get(api(`${BIG}/builds/${bigId}/loglines?q=${encodeURIComponent('needle IN')}`));
      expect(r.status).to.equal(200);
      expect(r.body).to.deep.equal({ q: 'needle IN', count: 1, truncated: false, matches: [{ seq: 87_654, stage: 'test', run: 1 }] });
    });

    it('returns every match in seq order with its stage; ?stage= narrows, ?limit= caps and says truncated', async () => {
      const all = (await get(api(`${BIG}/builds/${bigId}/loglines?q=checkpoint`))).body;
      expect(all.matches.map((m: { seq: number }) => m.seq)).to.deep.equal(Array.from({ length: 10 }, (_, i) => i * 10_000 + 5));
      expect(all.matches.map((m: { stage: string }) => m.stage)).to.deep.equal([...Array(5).fill('build'), ...Array(5).fill('test')]);
      const inTest = (await get(api(`${BIG}/builds/${bigId}/loglines?q=checkpoint&stage=test`))).body;
      expect(inTest.matches.map((m: { seq: number }) => m.seq)).to.deep.equal([50_005, 60_005, 70_005, 80_005, 90_005]);
      expect((await get(api(`${BIG}/builds/${bigId}/loglines?q=checkpoint&limit=3`))).body).to.deep.include({ count: 3, truncated: true });
      expect((await get(api(`${BIG}/builds/${bigId}/loglines?q=no+such+text`))).body).to.deep.equal({ q: 'no such text', count: 0, truncated: false, matches: [] });
    });

    it('treats the text literally (no LIKE or regex syntax) and refuses an empty or huge query', async () => {
      await appendLogLines(h.pool, 'build', builds[1]!.id, [
        line(0, 'x', '100% done'),
        line(1, 'x', '100 percent'),
        line(2, 'x', 'a.b'),
        line(3, 'x', 'axb'),
        line(4, 'x', 'call(x) [y] a\\b c-d <e> ^f$ {g} |h| *i+ ?'),
        line(5, 'x', 'Grüße aus Köln'),
        line(6, 'x', 'n\u001b[1mee\u001b[0mdle split by colours'),
        line(7, 'x', 'title \u001b]0;window title\u0007and text'),
      ]);
      const q = async (text: string) => (await get(api(`${PL}/builds/${builds[1]!.id}/loglines?q=${encodeURIComponent(text)}`))).body.matches.map((m: { seq: number }) => m.seq);
      expect(await q('100%')).to.deep.equal([0]);
      expect(await q('a.b')).to.deep.equal([2]);
      for (const punct of ['call(x)', '[y]', 'a\\b', 'c-d', '<e>', '^f$', '{g}', '|h|', '*i+ ?']) expect(await q(punct), punct).to.deep.equal([4]);
      expect(await q('GRÜSSE'.toLowerCase().replace('ss', 'ß'))).to.deep.equal([5]);
      expect(await q('KÖLN')).to.deep.equal([5]);
      expect(await q('needle SPLIT')).to.deep.equal([6]);
      expect(await q('title and')).to.deep.equal([7]);
      // Text inside escapes (a window title, a colour code) is not shown, so not found.
      expect(await q('window')).to.deep.equal([]);
      expect(await q('1m')).to.deep.equal([]);
      expect(await q('[0m')).to.deep.equal([]);
      expect((await get(api(`${PL}/builds/${builds[1]!.id}/loglines?q=`))).status).to.equal(400);
      expect((await get(api(`${PL}/builds/${builds[1]!.id}/loglines?q=${'x'.repeat(201)}`))).status).to.equal(400);
    });
  });

  describe('compression: every answer gzip or brotli when the client accepts it', () => {
    const logsPath = () => `${PL}/builds/${builds[0]!.id}/logs.txt`;
    const cases: Array<{ accept: string | undefined; want: string | undefined }> = [
      { accept: 'gzip, deflate, br', want: 'br' },
      { accept: 'gzip', want: 'gzip' },
      { accept: 'br;q=0.5, gzip;q=0.9', want: 'gzip' },
      { accept: 'br;q=0, gzip;q=0', want: undefined },
      { accept: '*', want: 'br' },
      { accept: 'identity', want: undefined },
      { accept: undefined, want: undefined },
    ];
    cases.forEach(({ accept, want }) =>
      it(`JSON with Accept-Encoding ${accept ?? '(none)'} → ${want ?? 'identity'}`, async () => {
        const path = '/api/builds?page[size]=100';
        const plain = await get(api(path));
        const r = await rawGet(api(path), accept ? { 'accept-encoding': accept } : {});
        expect(r.status).to.equal(200);
        expect(r.headers['content-encoding']).to.equal(want);
        expect(r.headers.vary).to.equal('Accept-Encoding');
        expect(JSON.parse(decode(r))).to.deep.equal(plain.body);
      }),
    );

    it('a large log page shrinks to a fraction; small answers are sent as they are', async () => {
      const {
        builds: [b],
      } = await seed(h.pool, 'squeeze', [{ status: 'succeeded' }]);
      await appendLogLines(
        h.pool,
        'build',
        b!.id,
        Array.from({ length: 5000 }, (_, i) => line(i, 'build', `\u001b[32mok\u001b[0m step ${i} of the build did its work`)),
      );
      const path = `/api/pipelines/github.com/estafette/squeeze/builds/${b!.id}/logs`;
      const identity = await rawGet(api(path));
      const br = await rawGet(api(path), { 'accept-encoding': 'br' });
      const gz = await rawGet(api(path), { 'accept-encoding': 'gzip' });
      expect(decode(br)).to.equal(identity.body.toString());
      expect(decode(gz)).to.equal(identity.body.toString());
      expect(br.body.length).to.be.below(identity.body.length / 10);
      expect(gz.body.length).to.be.below(identity.body.length / 5);
      const small = await rawGet(api('/liveness'), { 'accept-encoding': 'br' });
      expect(small.headers['content-encoding']).to.equal(undefined);
      expect(JSON.parse(small.body.toString())).to.deep.equal({ status: 'ok', function: 'query-api' });
      const err = await rawGet(api(`${PL}/builds/123/logs`), { 'accept-encoding': 'br' });
      expect([err.status, JSON.parse(decode(err)).message]).to.deep.equal([404, 'build 123 not found']);
    });

    it('a streamed plain-text log is compressed as it streams', async () => {
      const plain = (await get(api(logsPath()))).body;
      for (const coding of ['br', 'gzip']) {
        const r = await rawGet(api(logsPath()), { 'accept-encoding': coding });
        expect(r.headers['content-encoding']).to.equal(coding);
        expect(decode(r)).to.equal(plain);
      }
    });

    it('Server-Sent Events are compressed and still arrive one by one while the stream is open', async () => {
      const running = builds[2]!;
      await appendLogLines(h.pool, 'build', running.id, [line(0, 'build', 'first')]);
      const events: string[] = [];
      let wrote = false;
      await new Promise<void>((resolve, reject) => {
        const req = request(api(`${PL}/builds/${running.id}/logs.stream`), { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          expect(res.headers['content-encoding']).to.equal('gzip');
          expect(res.headers['content-type']).to.equal('text/event-stream; charset=utf-8');
          const gunzip = createGunzip();
          res.pipe(gunzip);
          let buf = '';
          gunzip.on('data', async (c: Buffer) => {
            buf += c.toString();
            for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
              const block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              const data = /^data: (.*)$/m.exec(block)?.[1];
              if (block.includes('event: log') && data) events.push(JSON.parse(data).text);
            }
            // The first stored line came through while the build is still running: now a live one.
            if (events.length === 1 && !wrote) {
              wrote = true;
              await appendLogLines(h.pool, 'build', running.id, [line(1, 'build', 'second')]);
              await h.publisherLogs.publish('build', running.id, { lines: [line(1, 'build', 'second')] });
            }
            if (events.length === 2) {
              req.destroy();
              resolve();
            }
          });
          gunzip.on('error', reject);
        });
        req.on('error', (e) => (events.length === 2 ? resolve() : reject(e)));
        req.end();
      });
      expect(events).to.deep.equal(['first', 'second']);
    });

    it('static files: compressed, hashed assets immutable, index.html revalidated by ETag (304)', async () => {
      const asset = await rawGet(api('/assets/app-5678.js'), { 'accept-encoding': 'br' });
      expect(asset.headers['content-encoding']).to.equal('br');
      expect(asset.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
      expect(decode(asset)).to.match(/^console\.log\("x{5000}"\);$/);
      const index = await rawGet(api('/pipelines/x'), { 'accept-encoding': 'gzip' });
      expect([index.headers['content-encoding'], index.headers['cache-control']]).to.deep.equal(['gzip', 'no-cache']);
      const etag = index.headers.etag as string;
      expect(etag).to.match(/^"[\w-]+"$/);
      const again = await rawGet(api('/'), { 'if-none-match': etag, 'accept-encoding': 'gzip' });
      expect([again.status, again.body.length, again.headers['content-encoding']]).to.deep.equal([304, 0, undefined]);
      expect((await rawGet(api('/'), { 'if-none-match': '"other"' })).status).to.equal(200);
    });

    it('a client that goes away mid-stream stops the compressed stream (no subscription left)', async () => {
      const running = builds[2]!;
      const before = h.activeSubscriptions();
      await new Promise<void>((resolve, reject) => {
        const req = request(api(`${PL}/builds/${running.id}/logs.stream`), { headers: { 'accept-encoding': 'br' } }, (res) => {
          const br = createBrotliDecompress();
          res.pipe(br);
          br.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => undefined);
        req.end();
        setTimeout(() => reject(new Error('no data')), 10_000).unref();
      });
      for (let i = 0; i < 100 && h.activeSubscriptions() > before; i++) await new Promise((r) => setTimeout(r, 50));
      expect(h.activeSubscriptions()).to.equal(before);
    });
  });

  it('GET …/stats/releases counts only the releases of the chosen period', async () => {
    const {
      pipeline: p,
      builds: [b],
    } = await seed(h.pool, 'releasing', [{ status: 'succeeded', version: '2.0.0' }]);
    const day = 86_400_000;
    for (const daysAgo of [400, 40, 2, 1]) {
      const r = (await createRelease(h.pool, { pipelineId: p.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'releasing', name: 'production', version: '2.0.0', buildId: b!.id })).release;
      await transitionReleaseStatus(h.pool, r.id, 'running', { at: new Date(Date.now() - daysAgo * day - 60_000) });
      await transitionReleaseStatus(h.pool, r.id, 'succeeded', { at: new Date(Date.now() - daysAgo * day) });
    }
    const count = async (since?: string) => (await get(api(`/api/pipelines/github.com/estafette/releasing/stats/releases${since ? `?filter[since]=${since}` : ''}`))).body.items[0]?.count ?? 0;
    expect([await count('1d'), await count('1w'), await count('1m'), await count('1y'), await count()]).to.deep.equal([0, 2, 2, 3, 4]);
    expect((await get(api(`/api/pipelines/github.com/estafette/releasing/stats/releases?filter[since]=2w`))).status).to.equal(400);
  });

  it('GET …/builds/:id/stages lists every planned stage in manifest order, pending ones too, retries after their first run', async () => {
    const {
      builds: [b],
    } = await seed(h.pool, 'planned', [{ status: 'running' }]);
    const plan = {
      kind: 'build',
      repoSource: 'github.com',
      repoOwner: 'estafette',
      repoName: 'planned',
      branch: 'main',
      revision: 'r',
      version: '1',
      builder: { track: 'stable', os: 'linux', medium: '', type: 'docker' },
      labels: {},
      estafetteEnv: {},
      stages: [
        stage('git-clone', { builtin: 'git-clone', injected: true }),
        stage('prepare', { services: [{ name: 'db', image: 'postgres', shell: '/bin/sh', commands: [], runCommandsInForeground: false, env: {}, when: '', multiStage: false, customProperties: {} }] }),
        stage('test', { parallelStages: [stage('unit'), stage('lint')] }),
        stage('package'),
      ],
    } satisfies Plan;
    await setBuildPlan(h.pool, b!.id, plan);
    await upsertStageRuns(h.pool, 'build', b!.id, [
      { stage: 'executor-note', run: 1, kind: 'builtin', status: 'succeeded', startedAt: '2026-01-01T00:00:00.000Z' },
      { stage: 'git-clone', run: 1, kind: 'builtin', status: 'succeeded', startedAt: '2026-01-01T00:00:01.000Z' },
      { stage: 'prepare', run: 2, kind: 'stage', status: 'running', startedAt: '2026-01-01T00:00:03.000Z' },
      { stage: 'prepare', run: 1, kind: 'stage', status: 'failed', startedAt: '2026-01-01T00:00:02.000Z', message: 'exit code 1' },
      { stage: 'prepare/db', run: 1, parent: 'prepare', kind: 'service', status: 'running', startedAt: '2026-01-01T00:00:02.000Z' },
    ]);
    const items = (await get(api(`/api/pipelines/github.com/estafette/planned/builds/${b!.id}/stages`))).body.items;
    expect(items.map((s: { stage: string; run: number; status: string; parent: string | null; kind: string }) => [s.stage, s.run, s.status, s.parent, s.kind])).to.deep.equal([
      ['executor-note', 1, 'succeeded', null, 'builtin'],
      ['git-clone', 1, 'succeeded', null, 'builtin'],
      ['prepare', 1, 'failed', null, 'stage'],
      ['prepare', 2, 'running', null, 'stage'],
      ['prepare/db', 1, 'running', 'prepare', 'service'],
      ['test', 1, 'pending', null, 'parallel'],
      ['test/unit', 1, 'pending', 'test', 'stage'],
      ['test/lint', 1, 'pending', 'test', 'stage'],
      ['package', 1, 'pending', null, 'stage'],
    ]);
    expect(items[8]).to.deep.equal({ stage: 'package', parent: null, kind: 'stage', run: 1, status: 'pending', startedAt: null, finishedAt: null, durationMs: null, message: null });
  });

  it('POST …/builds/:id/rerun-failed: a failed build → build.requested of the same version and revision naming it; others → 409', async () => {
    const failed = builds[0]!;
    const before = h.published.length;
    const r = await post(api(`${PL}/builds/${failed.id}/rerun-failed`), {});
    expect(r.status).to.equal(202);
    expect(h.published.slice(before)).to.deep.equal([
      {
        name: 'build.requested',
        id: r.body.eventId,
        data: {
          repoSource: 'github.com',
          repoOwner: 'estafette',
          repoName: 'daily',
          branch: 'main',
          revision: failed.repoRevision,
          version: '1.0.0',
          commits: [],
          trigger: { event: 'manual', fields: { USER_ID: 'local' } },
          requestedBy: 'local',
          chainDepth: 0,
          rerunFailedOf: failed.id,
        },
      },
    ]);
    const ok = await post(api(`${PL}/builds/${builds[1]!.id}/rerun-failed`), {});
    expect([ok.status, ok.body.message]).to.deep.equal([409, `build ${builds[1]!.id} is succeeded; only a failed build can re-run its failed stages`]);
    expect((await post(api(`${PL}/builds/123/rerun-failed`), {})).status).to.equal(404);
  });

  it('GET …/builds?filter[eventId]= finds the build a request made (how the UI follows a rebuild)', async () => {
    const { build } = await createBuild(h.pool, {
      pipelineId: pipeline.id,
      repoSource: 'github.com',
      repoOwner: 'estafette',
      repoName: 'daily',
      branch: 'main',
      version: '1.0.9',
      eventId: '5e0f4a34-0000-4000-8000-000000000001',
    });
    const found = await get(api(`${PL}/builds?filter[eventId]=5e0f4a34-0000-4000-8000-000000000001`));
    expect(found.body.items.map((b: Build) => b.id)).to.deep.equal([build.id]);
    expect((await get(api(`${PL}/builds?filter[eventId]=5e0f4a34-0000-4000-8000-000000000002`))).body.items).to.deep.equal([]);
  });

  it("a running build carries estimatedDuration, the median of its pipeline's recent succeeded builds; finished ones do not", async () => {
    const { pipeline: p } = await seed(h.pool, 'timed', []);
    const t0 = Date.now() - 3_600_000;
    const ref = { pipelineId: p.id, repoSource: 'github.com', repoOwner: 'estafette', repoName: 'timed', branch: 'main' };
    for (const [i, seconds] of [60, 120, 90, 600].entries()) {
      const { build } = await createBuild(h.pool, { ...ref, version: `0.${i}` });
      await transitionBuildStatus(h.pool, build.id, 'running', { at: new Date(t0 + i * 1000_000) });
      await transitionBuildStatus(h.pool, build.id, i === 3 ? 'failed' : 'succeeded', { at: new Date(t0 + i * 1000_000 + seconds * 1000) });
    }
    const { build: running } = await createBuild(h.pool, { ...ref, version: '0.9' });
    await transitionBuildStatus(h.pool, running.id, 'running');
    const list = (await get(api('/api/pipelines/github.com/estafette/timed/builds'))).body.items;
    expect(list.map((b: Build & { estimatedDuration?: number }) => [b.buildVersion, b.estimatedDuration])).to.deep.equal([
      ['0.9', 90e9],
      ['0.3', undefined],
      ['0.2', undefined],
      ['0.1', undefined],
      ['0.0', undefined],
    ]);
    expect((await get(api(`/api/pipelines/github.com/estafette/timed/builds/${running.id}`))).body.estimatedDuration).to.equal(90e9);
    const everywhere = (await get(api('/api/builds?filter[status]=running'))).body.items.find((b: Build) => b.id === running.id);
    expect(everywhere.estimatedDuration).to.equal(90e9);
    const pl = (await get(api('/api/pipelines?filter[search]=timed'))).body.items[0];
    expect(pl.lastBuild).to.include({ id: running.id, estimatedDuration: 90e9 });
  });

  it('the pipelines list names the commit and trigger of each last build', async () => {
    const commits = [{ id: 'c'.repeat(40), message: 'Fix the parser\n\nLonger text', author: { name: 'Ada', email: 'ada@example.com' } }];
    const { pipeline: p } = await seed(h.pool, 'described', []);
    await createBuild(h.pool, {
      pipelineId: p.id,
      repoSource: 'github.com',
      repoOwner: 'estafette',
      repoName: 'described',
      branch: 'main',
      version: '3',
      commits,
      trigger: { event: 'manual', fields: { USER_ID: 'ada@example.com' } },
    });
    const pl = (await get(api('/api/pipelines?filter[search]=described'))).body.items[0];
    expect(pl.lastBuild).to.deep.include({ buildNumber: 1, commits, trigger: { event: 'manual', fields: { USER_ID: 'ada@example.com' } } });
    expect((await get(api('/api/pipelines/github.com/estafette/described'))).body.lastBuild.commits).to.deep.equal(commits);
  });

  it('a cron trigger says its time zone, when it fires next and the build it fired last', async () => {
    const [t] = await replaceTriggers(h.pool, pipeline.id, [{ jobKind: 'build', kind: 'cron', name: 'nightly', filter: { schedule: '30 3 * * *' }, action: { builds: { branch: 'main' } } }]);
    const minute = new Date(Date.UTC(2026, 0, 2, 3, 30));
    await claimCronFiring(h.pool, t!.id, minute);
    const { build } = await createBuild(h.pool, {
      pipelineId: pipeline.id,
      repoSource: 'github.com',
      repoOwner: 'estafette',
      repoName: 'daily',
      branch: 'main',
      version: '1.0.8',
      eventId: derivedEventId(`cron/${minute.toISOString()}`, t!.id),
      trigger: { event: 'cron', name: 'nightly', fields: { SCHEDULE: '30 3 * * *', TIME: minute.toISOString() } },
    });
    const [desc] = (await get(api(PL))).body.triggers;
    const now = new Date();
    const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 3, 30));
    if (next <= now) next.setUTCDate(next.getUTCDate() + 1);
    expect(desc).to.deep.equal({
      cron: { schedule: '30 3 * * *' },
      builds: { branch: 'main' },
      kind: 'cron',
      name: 'nightly',
      jobKind: 'build',
      jobName: null,
      filter: { schedule: '30 3 * * *' },
      action: { builds: { branch: 'main' } },
      timeZone: 'UTC',
      nextFireAt: next.toISOString(),
      lastFired: { at: minute.toISOString(), build: { id: build.id, buildNumber: build.buildNumber, buildVersion: '1.0.8', buildStatus: 'pending' } },
    });
  });
});
