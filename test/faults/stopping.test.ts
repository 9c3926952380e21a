/**
 * Stopping and crashing `estafette start` mid-build, as a user does it, on the embedded
 * PostgreSQL (the default local mode) and the host executor:
 * - kill -9 of the server: its builder cancels itself and leaves no process; the server started
 *   again on the same state folder fails the build (all stages final) within 45 s of the kill.
 * - Ctrl-C as a terminal sends it (SIGINT to the whole process group, the embedded PostgreSQL's
 *   process too unless it runs in its own group): stopped within 10 s, the build canceled.
 * - a second `estafette start` on the same state folder says another one runs (pid, URL).
 * Builds are read back through the API of a started server (the state folder's database).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { pushRepo, startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { tempRepo, type TempRepo } from '../support/git-repo.ts';
import { alive, descendants, waitFor } from '../support/processes.ts';

const LONG = `
stages:
  sleeper:
    image: alpine:3.20
    commands:
    - echo "started $$"
    - sleep 300
  after:
    image: alpine:3.20
    commands: ["echo after"]
`;

const EMBEDDED = { DATABASE_URL: undefined, NATS_URL: undefined };
const FINAL = ['succeeded', 'failed', 'canceled', 'skipped'];

/** Pids of the processes whose command line mentions `needle`. */
const pgrep = (needle: string): number[] => {
  try {
    return execFileSync('pgrep', ['-f', needle], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

/** Waits for the build of `repo` to run its first stage; its id, the stage's shell pid and the builder's pid. */
async function runningBuild(sys: LocalSystem, repo: TempRepo, owner: string): Promise<{ id: string; stagePid: number; builderPid: number }> {
  await pushRepo(sys, repo.dir, 'main', repo.commit({ '.estafette.yaml': LONG }));
  const path = `/api/pipelines/local/${owner}/${repo.dir.split('/').pop()}/builds`;
  const b = await waitFor(
    'the stage to print its pid',
    async () => {
      const builds = (await sys.api(path)).body.items ?? [];
      const running = builds.find((x: any) => x.buildStatus === 'running');
      if (!running) return undefined;
      const logs = (await sys.api(`${path}/${running.id}/loglines`)).body.items as any[];
      const line = logs.find((l) => l.text.startsWith('started '));
      return line ? { id: running.id as string, stagePid: Number(line.text.split(' ')[1]) } : undefined;
    },
    90_000,
    200,
  );
  const builder = descendants(sys.child.pid!).find((p) => p.argv.some((a) => /builder(\/main\.ts|\.mjs)$/.test(a)));
  expect(builder, `the builder runs under the server\n${sys.output()}`).to.not.equal(undefined);
  return { ...b, builderPid: builder!.pid };
}

describe('faults: stopping and crashing estafette start mid-build', function () {
  this.timeout(300_000);
  const systems: LocalSystem[] = [];
  const repos: TempRepo[] = [];
  const start = async (opts: Parameters<typeof startLocalSystem>[0] = {}) => {
    const sys = await startLocalSystem({ env: EMBEDDED, timeoutMs: 120_000, ...opts });
    systems.push(sys);
    return sys;
  };
  afterEach(async () => {
    const dirs = new Set(systems.map((s) => s.stateDir));
    for (const s of systems.splice(0)) await s.stop('SIGKILL').catch(() => undefined);
    for (const dir of dirs) for (const pid of pgrep(`${dir}/pg`)) process.kill(pid, 'SIGKILL');
    for (const r of repos.splice(0)) r.remove();
  });

  it('kill -9 of the server mid-build: no builder left, and the restarted server fails the build with every stage final within 45 s', async () => {
    const sys = await start();
    const repo = tempRepo('crashed', 'main', 'faults');
    repos.push(repo);
    const b = await runningBuild(sys, repo, 'faults');

    const killedAt = Date.now();
    await sys.stop('SIGKILL');
    await waitFor('the builder and its stage to end', () => !alive(b.builderPid) && !alive(b.stagePid), 30_000, 100).catch(() => undefined);
    expect({ builder: alive(b.builderPid), stage: alive(b.stagePid) }, 'processes left after kill -9 of the server').to.deep.equal({ builder: false, stage: false });

    // Started again on the same state folder (the embedded PostgreSQL of the killed one still runs).
    const again = await start({ stateDir: sys.stateDir });
    const path = `/api/pipelines/local/faults/crashed/builds/${b.id}`;
    const ended = await waitFor(
      'the build to be reconciled',
      async () => {
        const build = (await again.api(path)).body;
        if (build.buildStatus !== 'failed') return undefined;
        const stages = (await again.api(`${path}/stages`)).body;
        return { build, stages: (stages.items ?? stages) as any[] };
      },
      90_000,
      250,
    );
    const seconds = (Date.now() - killedAt) / 1000;
    console.log(`      build ${b.id} failed by housekeeping ${seconds.toFixed(1)} s after kill -9 of the server`);
    expect(seconds, 'seconds from kill -9 to the failed build').to.be.lessThan(45);
    const stages = ended.stages.map((s) => `${s.stage ?? s.name}:${s.status}`);
    expect(
      ended.stages.every((s) => FINAL.includes(s.status)),
      `every stage final: ${stages.join(', ')}`,
    ).to.equal(true);
    expect(stages).to.include('sleeper:failed');
  });

  it('Ctrl-C (SIGINT to the whole process group) mid-build: stopped within 10 s, the build canceled, nothing left running', async () => {
    const sys = await start({ processGroup: true });
    const repo = tempRepo('interrupted', 'main', 'faults');
    repos.push(repo);
    const b = await runningBuild(sys, repo, 'faults');
    const postgres = pgrep(`${sys.stateDir}/pg`);
    expect(postgres, 'the embedded postgres runs').to.not.deep.equal([]);

    const t0 = Date.now();
    const code = await sys.stop('SIGINT');
    const seconds = (Date.now() - t0) / 1000;
    console.log(`      estafette start stopped ${seconds.toFixed(1)} s after Ctrl-C (exit ${code})`);
    expect(code, sys.output()).to.equal(0);
    expect(seconds, 'seconds from Ctrl-C to exit').to.be.lessThan(10);
    await waitFor('the builder, its stage and postgres to end', () => ![b.builderPid, b.stagePid, ...postgres].some(alive), 10_000, 100).catch(() => undefined);
    expect([b.builderPid, b.stagePid, ...postgres].filter(alive), 'processes left').to.deep.equal([]);

    const again = await start({ stateDir: sys.stateDir });
    const path = `/api/pipelines/local/faults/interrupted/builds/${b.id}`;
    expect((await again.api(path)).body.buildStatus).to.equal('canceled');
    const stages = (await again.api(`${path}/stages`)).body;
    const list = (stages.items ?? stages) as any[];
    expect(list.map((s) => `${s.stage ?? s.name}:${s.status}`)).to.include('sleeper:canceled');
    expect(
      list.every((s) => FINAL.includes(s.status)),
      JSON.stringify(list),
    ).to.equal(true);
  });

  it('a bad PORT is refused with one line naming the variable, before anything starts', async () => {
    const message = await startLocalSystem({ env: { ...EMBEDDED, PORT: 'abc' }, timeoutMs: 60_000 }).then(
      (s) => {
        systems.push(s);
        return 'started';
      },
      (err: Error) => err.message,
    );
    expect(message).to.match(/exited with 1:[\s\S]*estafette start: PORT: expected an integer from 0 to 65535, got 'abc'/);
    expect(message).to.not.match(/\n\s+at /);
  });

  it('a second estafette start on the same state folder says that another one runs, with its pid and URL', async () => {
    const sys = await start();
    const second = await startLocalSystem({ env: EMBEDDED, stateDir: sys.stateDir, timeoutMs: 60_000 }).then(
      (s) => {
        systems.push(s);
        return 'started';
      },
      (err: Error) => err.message,
    );
    expect(second).to.match(new RegExp(`exited with 1:[\\s\\S]*another estafette start is running on ${sys.stateDir} \\(pid ${sys.child.pid}, ${sys.url.replace(/[.]/g, '\\.')}\\)`));
    expect(second).to.not.include('Cannot read properties');
    // The first one is unharmed.
    expect((await sys.api('/api/pipelines')).status).to.equal(200);
  });
});
