/**
 * End to end through a started `estafette start` process, over real HTTP only: generic webhook →
 * build-dispatch → builder (host executor) → log-ingest → query-api. Runs once per bus transport
 * (the durable PostgreSQL queue, and NATS JetStream when NATS_URL is set), against PostgreSQL at DATABASE_URL when set.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freshDatabase, requireService } from '../support/services.ts';
import { pushRepo, startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { tempRepo, type TempRepo } from '../support/git-repo.ts';
import { descendants, waitFor } from '../support/processes.ts';

const PASSING = `
version:
  semver:
    major: 3
    minor: 1
stages:
  hello:
    image: alpine:3.20
    commands:
    - echo "hello from \${ESTAFETTE_GIT_NAME} \${ESTAFETTE_BUILD_VERSION}"
    - echo "to stderr" 1>&2
  count:
    image: alpine:3.20
    commands:
    - for i in 1 2 3 4 5; do echo "line $i"; done
releases:
  staging:
    stages:
      deploy:
        image: alpine:3.20
        commands:
        - echo "deploying \${ESTAFETTE_BUILD_VERSION} to \${ESTAFETTE_RELEASE_NAME}"
`;

const FAILING = `
stages:
  first:
    image: alpine:3.20
    commands: ["echo first"]
  broken:
    image: alpine:3.20
    commands: ["echo about to fail", "exit 3"]
  skipped-after-failure:
    image: alpine:3.20
    commands: ["echo should not run"]
  notify-failure:
    image: alpine:3.20
    when: status == 'failed'
    commands: ["echo build failed, notifying"]
`;

const SLOW = `
stages:
  slow:
    image: alpine:3.20
    commands:
    - for i in $(seq 1 40); do echo "tick $i"; sleep 0.1; done
`;

const LONG = `
stages:
  sleeper:
    image: alpine:3.20
    commands:
    - echo "started $$"
    - sleep 300
`;

const transports: Array<{ name: string; nats: boolean }> = [
  { name: 'PostgreSQL bus (the local default)', nats: false },
  { name: 'NATS JetStream bus', nats: true },
];

const final = (s: string) => ['succeeded', 'failed', 'canceled'].includes(s);

transports.forEach(({ name, nats }) =>
  describe(`estafette start end to end (${name})`, function () {
    this.timeout(120_000);
    let sys: LocalSystem;
    let drop: (() => Promise<void>) | undefined;
    const repos: TempRepo[] = [];
    let owner: string;

    before(async function () {
      const env: Record<string, string | undefined> = { ESTAFETTE_CRON_INTERVAL_MS: '1500', NATS_URL: undefined, DATABASE_URL: undefined };
      if (process.env.DATABASE_URL || process.env.REQUIRE_SERVICES === '1') {
        const server = await requireService(this, 'postgres');
        const db = await freshDatabase(server, 'e2e');
        env.DATABASE_URL = db.url;
        drop = db.drop;
      }
      if (nats) {
        env.NATS_URL = await requireService(this, 'nats');
        const ns = `E2E${randomBytes(4).toString('hex').toUpperCase()}`;
        env.ESTAFETTE_BUS_STREAM = ns;
        env.ESTAFETTE_BUS_SUBJECT_PREFIX = `${ns.toLowerCase()}.`;
      }
      owner = `team${randomBytes(3).toString('hex')}`;
      sys = await startLocalSystem({ env });
    });
    after(async () => {
      await sys?.stop();
      for (const r of repos) r.remove();
      await drop?.();
    });

    const repo = (name: string) => {
      const r = tempRepo(name, 'main', owner);
      repos.push(r);
      return r;
    };
    const path = (r: TempRepo) => `/api/pipelines/local/${owner}/${r.dir.split('/').pop()}`;
    const builds = async (r: TempRepo) => (await sys.api(`${path(r)}/builds`)).body.items ?? [];
    const waitBuild = async (r: TempRepo, number: number, until: (s: string) => boolean = final) =>
      waitFor(
        `build ${number} of ${r.dir}`,
        async () => {
          const b = (await builds(r)).find((x: any) => x.buildNumber === number);
          return b && until(b.buildStatus) ? b : undefined;
        },
        60_000,
        200,
      );

    it('1. a generic webhook for a file:// repo runs build 1 to success with stored logs; a second push is build 2', async () => {
      const r = repo('hello-app');
      const rev = r.commit({ '.estafette.yaml': PASSING });
      expect((await pushRepo(sys, r.dir, 'main', rev)).status).to.equal(202);
      const b1 = await waitBuild(r, 1);
      expect(b1.buildStatus, sys.output()).to.equal('succeeded');
      expect(b1.buildVersion).to.equal('3.1.1');
      const logs = (await sys.api(`${path(r)}/builds/${b1.id}/loglines`)).body.items as any[];
      const texts = logs.map((l) => l.text);
      expect(texts).to.include('hello from hello-app 3.1.1');
      // One channel for a command's stdout and stderr keeps their order (docs/builder.md).
      const hello = texts.filter((_, i) => logs[i].stage === 'hello');
      expect(hello).to.deep.equal(['> echo "hello from ${ESTAFETTE_GIT_NAME} ${ESTAFETTE_BUILD_VERSION}"', 'hello from hello-app 3.1.1', '> echo "to stderr" 1>&2', 'to stderr']);
      expect(texts.filter((t) => /^line \d$/.test(t))).to.deep.equal(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
      expect(logs.map((l) => l.seq)).to.deep.equal(logs.map((_, i) => i));
      const stages = (await sys.api(`${path(r)}/builds/${b1.id}/stages`)).body.items as any[];
      expect(stages.filter((s) => !s.parent).map((s) => [s.stage, s.status])).to.deep.include.members([
        ['hello', 'succeeded'],
        ['count', 'succeeded'],
      ]);

      const rev2 = r.commit({ 'README.md': 'more' });
      await pushRepo(sys, r.dir, 'main', rev2);
      const b2 = await waitBuild(r, 2);
      expect([b2.buildStatus, b2.buildVersion, b2.repoRevision]).to.deep.equal(['succeeded', '3.1.2', rev2]);
    });

    it('2. a failing stage fails the build, skips later default stages and runs status == failed stages', async () => {
      const r = repo('failing-app');
      await pushRepo(sys, r.dir, 'main', r.commit({ '.estafette.yaml': FAILING }));
      const b = await waitBuild(r, 1);
      expect(b.buildStatus).to.equal('failed');
      const stages = Object.fromEntries(((await sys.api(`${path(r)}/builds/${b.id}/stages`)).body.items as any[]).map((s) => [s.stage, s.status]));
      expect(stages).to.include({ first: 'succeeded', broken: 'failed', 'skipped-after-failure': 'skipped', 'notify-failure': 'succeeded' });
      const texts = ((await sys.api(`${path(r)}/builds/${b.id}/loglines`)).body.items as any[]).map((l) => l.text);
      expect(texts).to.include('build failed, notifying');
      expect(texts).to.not.include('should not run');
    });

    it('3. a live SSE client sees every log line of a running build once, then close', async () => {
      const r = repo('slow-app');
      await pushRepo(sys, r.dir, 'main', r.commit({ '.estafette.yaml': SLOW }));
      const b = await waitBuild(r, 1, (s) => s === 'running' || final(s));
      const res = await fetch(`${sys.url}${path(r)}/builds/${b.id}/logs.stream`);
      expect(res.headers.get('content-type')).to.match(/text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buf = '';
      const events: Array<{ event: string; id?: string; data: string }> = [];
      while (!events.some((e) => e.event === 'close')) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const e: { event: string; id?: string; data: string } = { event: 'message', data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) e.event = line.slice(6).trim();
            else if (line.startsWith('id:')) e.id = line.slice(3).trim();
            else if (line.startsWith('data:')) e.data += line.slice(5).trim();
          }
          events.push(e);
        }
      }
      // Lines have an id (their seq); id-less log events are step events for Estafette's clients.
      const lines = events.filter((e) => e.event === 'log' && e.id !== undefined).map((e) => JSON.parse(e.data));
      const ticks = lines.map((l) => l.text).filter((t: string) => t.startsWith('tick '));
      expect(ticks).to.deep.equal(Array.from({ length: 40 }, (_, i) => `tick ${i + 1}`));
      expect(lines.map((l) => l.seq)).to.deep.equal(lines.map((_, i) => i));
      expect(events[events.length - 1].event).to.equal('close');
    });

    it('4. cancel through the API ends the build canceled and leaves no process behind', async () => {
      const r = repo('long-app');
      await pushRepo(sys, r.dir, 'main', r.commit({ '.estafette.yaml': LONG }));
      const b = await waitBuild(r, 1, (s) => s === 'running');
      const started = await waitFor(
        'the stage to print its pid',
        async () => {
          const logs = (await sys.api(`${path(r)}/builds/${b.id}/loglines`)).body.items as any[];
          return logs.find((l) => l.text.startsWith('started '));
        },
        30_000,
        100,
      );
      const pid = Number(started.text.split(' ')[1]);
      expect((await sys.api(`${path(r)}/builds/${b.id}`, { method: 'DELETE' })).status).to.be.oneOf([200, 202]);
      const done = await waitBuild(r, 1);
      expect(done.buildStatus).to.equal('canceled');
      await waitFor(
        'the stage process to be gone',
        () => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        },
        15_000,
      );
      // Nothing of the build is left under this estafette start (other processes on the machine are not ours).
      expect(descendants(sys.child.pid!).filter((p) => p.argv.join(' ').includes('sleep 300'))).to.deep.equal([]);
    });

    it('5. a pipeline trigger fires the downstream pipeline; a manual release runs; a cron trigger fires from a tick', async () => {
      const up = repo('upstream');
      const upName = up.dir.split('/').pop();
      const down = repo('downstream');
      const downRev = down.commit({
        '.estafette.yaml': `
triggers:
- pipeline:
    name: local/${owner}/${upName}
    branch: main
  builds:
    branch: main
- cron:
    schedule: '* * * * *'
  builds:
    branch: main
stages:
  react:
    image: alpine:3.20
    commands: ["echo triggered by \${ESTAFETTE_TRIGGER_PIPELINE_REPO_NAME:-cron}"]
`,
      });
      await pushRepo(sys, down.dir, 'main', downRev);
      await waitBuild(down, 1);
      await pushRepo(sys, up.dir, 'main', up.commit({ '.estafette.yaml': PASSING }));
      const ub = await waitBuild(up, 1);
      expect(ub.buildStatus).to.equal('succeeded');
      // build 2 by the pipeline trigger (and cron ticks may add more): one of the later builds was triggered by upstream
      const triggered = await waitFor(
        'a downstream build triggered by upstream',
        async () => (await builds(down)).find((b: any) => b.buildNumber > 1 && b.trigger?.event === 'pipeline' && final(b.buildStatus)),
        60_000,
        300,
      );
      expect(triggered.buildStatus).to.equal('succeeded');
      const cron = await waitFor('a downstream build triggered by cron', async () => (await builds(down)).find((b: any) => b.trigger?.event === 'cron'), 70_000, 500);
      expect(cron).to.not.equal(undefined);

      const rel = await sys.api(`/api/pipelines/local/${owner}/${upName}/releases`, { method: 'POST', body: JSON.stringify({ name: 'staging', releaseVersion: '3.1.1' }) });
      expect(rel.status, JSON.stringify(rel.body)).to.be.oneOf([201, 202]);
      const release = await waitFor(
        'the release to finish',
        async () => {
          const items = (await sys.api(`/api/pipelines/local/${owner}/${upName}/releases`)).body.items as any[];
          return items.find((x) => final(x.releaseStatus));
        },
        60_000,
        200,
      );
      expect(release).to.include({ name: 'staging', releaseVersion: '3.1.1', releaseStatus: 'succeeded' });
      const texts = ((await sys.api(`/api/pipelines/local/${owner}/${upName}/releases/${release.id}/loglines`)).body.items as any[]).map((l) => l.text);
      expect(texts).to.include('deploying 3.1.1 to staging');
    });
  }),
);

describe('estafette start keeps its data across a restart (embedded PostgreSQL)', function () {
  this.timeout(180_000);
  it('6. pipelines, builds and logs survive a restart', async () => {
    const env = { DATABASE_URL: undefined, NATS_URL: undefined };
    let sys = await startLocalSystem({ env });
    const r = tempRepo('persistent', 'main', 'keep');
    try {
      await pushRepo(sys, r.dir, 'main', r.commit({ '.estafette.yaml': PASSING }));
      const b = await waitFor(
        'the build',
        async () => {
          const items = (await sys.api('/api/pipelines/local/keep/persistent/builds')).body.items ?? [];
          return items.find((x: any) => final(x.buildStatus));
        },
        60_000,
        200,
      );
      expect(await sys.stop()).to.equal(0);
      sys = await startLocalSystem({ env, stateDir: sys.stateDir });
      const again = (await sys.api(`/api/pipelines/local/keep/persistent/builds/${b.id}`)).body;
      expect(again).to.include({ id: b.id, buildStatus: b.buildStatus, buildVersion: '3.1.1' });
      const logs = (await sys.api(`/api/pipelines/local/keep/persistent/builds/${b.id}/loglines`)).body.items as any[];
      expect(logs.map((l) => l.text)).to.include('hello from persistent 3.1.1');
    } finally {
      await sys.stop();
      r.remove();
    }
  });

  it('Ctrl-C cancels running builds (marked canceled), stops the embedded database and leaves no process', async () => {
    const env = { DATABASE_URL: undefined, NATS_URL: undefined };
    let sys = await startLocalSystem({ env });
    const r = tempRepo('interrupted', 'main', 'keep');
    try {
      await pushRepo(sys, r.dir, 'main', r.commit({ '.estafette.yaml': LONG }));
      const running = await waitFor(
        'the stage to print its pid',
        async () => {
          const builds = (await sys.api('/api/pipelines/local/keep/interrupted/builds')).body.items ?? [];
          const b = builds.find((x: any) => x.buildStatus === 'running');
          if (!b) return undefined;
          const logs = (await sys.api(`/api/pipelines/local/keep/interrupted/builds/${b.id}/loglines`)).body.items as any[];
          const line = logs.find((l) => l.text.startsWith('started '));
          return line ? { id: b.id, pid: Number(line.text.split(' ')[1]) } : undefined;
        },
        60_000,
        100,
      );
      expect(await sys.stop('SIGINT')).to.equal(0);
      const gone = (pid: number) => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      };
      expect(gone(running.pid), 'the stage process').to.equal(true);
      expect(() => execFileSync('pgrep', ['-f', `${sys.stateDir}/pg`]), 'the embedded postgres').to.throw();
      sys = await startLocalSystem({ env, stateDir: sys.stateDir });
      const b = (await sys.api(`/api/pipelines/local/keep/interrupted/builds/${running.id}`)).body;
      expect(b.buildStatus).to.equal('canceled');
    } finally {
      await sys.stop();
      r.remove();
    }
  });
});
