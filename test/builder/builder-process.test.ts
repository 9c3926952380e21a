/**
 * The builder as the Job runs it: `node --import tsx builder/main.ts` with BUILDER_CONFIG_PATH,
 * talking HTTP to an in-test log-ingest. Shows: a million lines arrive exactly once and in order
 * although the ingest fails some requests with 503 (also after storing), with the builder's RSS
 * bounded; SIGTERM cancels mid-stage and leaves no process behind; a config that does not
 * validate ends the build with a failed `init` step.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuilderConfig } from '../../shared/plan/builder-config.ts';
import type { PlanStage } from '../../shared/plan/types.ts';
import { LocalJobRunner } from '../../shared/jobs/local-runner.ts';
import { openPlanSecrets } from '../../shared/secrets/plan-secrets.ts';
import { encryptSecret, generateSecretKey } from '../../shared/secrets/secret.ts';
import { configOf, planOf, stage } from '../fixtures/builder/plans.ts';
import { dockerUnavailable, skipWithoutDocker, TEST_IMAGE } from './docker-engine.ts';
import { startIngest, type IngestServer } from './ingest-server.ts';
import { alive, childrenOf, waitFor } from '../support/processes.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'builder/main.ts');
const RUNNER_PARENT = join(ROOT, 'test/fixtures/builder/runner-parent.ts');

interface Exit {
  code: number | null;
  stderr: string;
  maxRssKb: number;
}

/** Starts the builder on a config file; samples its RSS from /proc while it runs. */
function startBuilder(config: unknown, dir: string): { pid: number; done: Promise<Exit> } {
  const file = join(dir, 'builder-config.json');
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: ROOT, env: { ...process.env, BUILDER_CONFIG_PATH: file }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let maxRssKb = 0;
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const sampler = setInterval(() => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) maxRssKb = Math.max(maxRssKb, Number(m[1]));
    } catch {
      // The process has just ended.
    }
  }, 50);
  const done = new Promise<Exit>((resolve) =>
    child.once('exit', (code) => {
      clearInterval(sampler);
      resolve({ code, stderr, maxRssKb });
    }),
  );
  return { pid: child.pid!, done };
}

/** The command line of process `pid` (empty once it is gone). */
function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Every process's command line that contains `needle`, from /proc. */
function argvContaining(needle: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes(needle)) out.push(`${e}: ${cmd.split('\0').join(' ').slice(0, 120)}`);
    } catch {
      // Gone while we looked.
    }
  }
  return out;
}

describe('builder process', function () {
  this.timeout(180_000);
  let dir: string;
  let ingest: IngestServer | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'estafette-builder-'));
  });
  afterEach(async () => {
    await ingest?.close();
    ingest = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const configFor = (stages: PlanStage[], over: Partial<BuilderConfig> = {}): BuilderConfig => {
    const work = join(dir, 'work');
    return configOf(planOf(stages), work, { ingest: { url: ingest!.url, token: 'test-token' }, ...over });
  };

  (['host', 'docker'] as const).forEach((executor) =>
    it(`ships 1,000,000 lines exactly once and in order through 503s with bounded memory (${executor} executor)`, async function () {
      if (executor === 'docker') {
        const reason = await dockerUnavailable();
        if (reason) skipWithoutDocker(this, 'the docker executor run', reason);
      }
      ingest = await startIngest({ failEvery: 23, lostAckEvery: 31, delayMs: 2 });
      const N = 1_000_000;
      const { done } = startBuilder(configFor([stage('big', [`seq 1 ${N}`], { image: TEST_IMAGE }), stage('after', ['echo done'], { image: TEST_IMAGE })], { executor }), dir);
      const exit = await done;
      expect(exit.code, exit.stderr).to.equal(0);

      const lines = ingest.lines;
      expect(lines.length).to.equal(N + 3);
      expect(lines[0]).to.deep.include({ stage: 'big', text: `> seq 1 ${N}` });
      let bad = -1;
      for (let i = 1; i <= N; i++) {
        const l = lines[i];
        if (!l || l.stage !== 'big' || l.text !== String(i)) {
          bad = i;
          break;
        }
      }
      expect(bad, `first wrong line at seq ${bad}`).to.equal(-1);
      expect(lines.slice(N + 1).map((l) => l?.text)).to.deep.equal(['> echo done', 'done']);
      expect(ingest.failed, 'the ingest failed some requests').to.be.greaterThan(10);
      expect(ingest.resentLines, 'lost acks made the builder resend stored lines').to.be.greaterThan(0);
      expect(ingest.conflicts, 'a resent seq carried other content').to.equal(0);

      const job = ingest.statuses.flatMap((s) => (s.status ? [s.status] : []));
      expect(job[0]).to.equal('running');
      expect(job[job.length - 1]).to.equal('succeeded');
      const rssMb = exit.maxRssKb / 1024;
      console.log(`      builder max RSS ${rssMb.toFixed(0)} MB for ${N} lines, ${ingest.requests} requests, ${ingest.failed} answered 503`);
      // Holding the million lines would take far more; with backpressure the RSS plateaus (~170-200 MB here).
      expect(rssMb).to.be.greaterThan(10).and.lessThan(300);
    }),
  );

  it('no line is cut: a stage printing 200,000 lines fast while shipping stalls near the end has every line stored (host executor)', async () => {
    const N = 200_000;
    // The ingest holds one answer for 4 s once it sees line 190,000: by then the stage has written
    // everything and exited, and its last lines are still in the pipe.
    ingest = await startIngest({ stall: { afterSeq: 190_000, ms: 4000 } });
    const exit = await startBuilder(configFor([stage('big', [`seq 1 ${N}`]), stage('after', ['echo done'])]), dir).done;
    expect(exit.code, exit.stderr).to.equal(0);
    const texts = ingest.lines.map((l) => l?.text);
    expect(texts.length).to.equal(N + 3);
    let bad = -1;
    for (let i = 1; i <= N && bad < 0; i++) if (texts[i] !== String(i)) bad = i;
    expect(bad, `first missing or wrong line at seq ${bad}`).to.equal(-1);
    expect(texts.slice(N + 1)).to.deep.equal(['> echo done', 'done']);
    const job = ingest.statuses.flatMap((x) => (x.status ? [x.status] : []));
    expect(job[job.length - 1]).to.equal('succeeded');
  });

  it('SIGTERM cancels mid-stage: no process left, remaining stages canceled, status canceled, exit 0', async () => {
    ingest = await startIngest();
    const config = configFor([stage('long', ['echo $$ > sh.pid', 'sleep 300 & echo $! > bg.pid', 'echo ready', 'wait']), stage('later', ['echo later'])], { cancelGraceSeconds: 3 });
    const builder = startBuilder(config, dir);
    await new Promise<void>((resolve) => {
      ingest!.onLine = (l) => {
        if (l.text === 'ready') resolve();
      };
    });
    const pids = ['sh.pid', 'bg.pid'].map((f) => Number(readFileSync(join(config.workDir, f), 'utf8').trim()));
    expect(pids.every(alive), 'stage processes run before the cancel').to.equal(true);
    const t0 = Date.now();
    process.kill(builder.pid, 'SIGTERM');
    const exit = await builder.done;
    expect(exit.code, exit.stderr).to.equal(0);
    expect(Date.now() - t0).to.be.lessThan(10_000);
    for (const pid of pids) expect(alive(pid), `process ${pid} survived the cancel`).to.equal(false);
    const stages = ingest.statuses.flatMap((s) => s.stages ?? []).filter((s) => s.status !== 'running');
    expect(stages.map((s) => `${s.stage}:${s.status}`)).to.deep.equal(['long:canceled', 'later:canceled']);
    expect(ingest.statuses[ingest.statuses.length - 1]!.status).to.equal('canceled');
  });

  it('kill -9 of the process that started it: the builder cancels its build, reports canceled, leaves no process and removes its temp dir', async () => {
    ingest = await startIngest();
    const config = configFor([stage('long', ['echo "shell $$ $(pwd)"', 'sleep 300 & echo "bg $!"', 'echo ready', 'wait']), stage('later', ['echo later'])], { cancelGraceSeconds: 2 });
    const file = join(dir, 'parent-config.json');
    writeFileSync(file, JSON.stringify(config));
    const parent = spawn(process.execPath, ['--import', 'tsx', RUNNER_PARENT, file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let parentErr = '';
    parent.stderr!.on('data', (c: Buffer) => (parentErr += c.toString()));
    await waitFor('the stage to run', () => ingest!.lines.some((l) => l?.text === 'ready'), 30_000);
    const texts = ingest.lines.map((l) => l?.text ?? '');
    const [, shellPid, workDir] = /^shell (\d+) (\S+)$/.exec(texts.find((t) => t.startsWith('shell '))!)!;
    const bgPid = Number(/^bg (\d+)$/.exec(texts.find((t) => t.startsWith('bg '))!)![1]);
    const runnerDir = dirname(workDir!);
    // Not simply the parent's first child: when tsx had to compile the parent's sources (a cold
    // cache, as in CI) the parent also runs a long-lived `esbuild --service` child, listed first.
    const builderPid = childrenOf(parent.pid!).find((p) => commandLine(p).includes('builder/main.ts'));
    expect(builderPid, `the builder runs as a child of the parent\n${parentErr}`).to.be.a('number');
    const pids = [builderPid!, Number(shellPid), bgPid];
    expect(pids.map(alive), 'builder and stage processes before the kill').to.deep.equal([true, true, true]);
    expect(existsSync(runnerDir)).to.equal(true);

    process.kill(parent.pid!, 'SIGKILL');
    await waitFor('the builder and its stage to end', () => pids.every((p) => !alive(p)), 30_000, 100).catch(() => undefined);
    expect(pids.filter(alive), 'processes left after the parent was killed').to.deep.equal([]);
    expect(existsSync(runnerDir), 'the job temp dir').to.equal(false);
    const stages = ingest.statuses.flatMap((x) => x.stages ?? []).filter((x) => x.status !== 'running');
    expect(stages.map((x) => `${x.stage}:${x.status}`)).to.deep.equal(['long:canceled', 'later:canceled']);
    expect(ingest.statuses[ingest.statuses.length - 1]!.status).to.equal('canceled');
  });

  (['host', 'docker'] as const).forEach((executor) =>
    it(`a stage cannot read the master key (not in its env, the builder's env or config), and no secret is in any process's argv (${executor} executor)`, async function () {
      if (executor === 'docker') {
        const reason = await dockerUnavailable();
        if (reason) skipWithoutDocker(this, 'the docker executor run', reason);
      }
      ingest = await startIngest();
      const key = generateSecretKey();
      const mine = encryptSecret('mine-secret-value', key, 'github.com/estafette/demo');
      const plan = planOf([
        stage(
          'probe',
          ['env', 'cat ../builder-config.json 2>&1 || true', ...(executor === 'host' ? ['tr "\\0" "\\n" < /proc/$PPID/environ'] : []), 'echo waiting; while [ ! -f go ]; do sleep 0.05; done', 'echo "uses $MINE"'],
          { image: TEST_IMAGE, env: { ESTAFETTE_STAGE_NAME: 'probe', MINE: mine } },
        ),
      ]);
      const config = configOf(plan, join(dir, 'work'), { executor, ingest: { url: ingest.url, token: 'test-token' }, secrets: openPlanSecrets(plan, key) });
      const ref = { kind: 'build' as const, id: config.job.id, repoOwner: 'estafette', repoName: 'demo' };
      // The server's own environment holds the key, as `estafette start` with ESTAFETTE_SECRET_KEY set does.
      const saved = process.env.ESTAFETTE_SECRET_KEY;
      process.env.ESTAFETTE_SECRET_KEY = key;
      const runner = new LocalJobRunner();
      try {
        await runner.start(ref, config);
      } finally {
        if (saved === undefined) delete process.env.ESTAFETTE_SECRET_KEY;
        else process.env.ESTAFETTE_SECRET_KEY = saved;
      }
      await waitFor('the stage to wait', () => ingest!.lines.some((l) => l?.text === 'waiting'), 60_000);
      const builderPid = childrenOf(process.pid).find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('builder/main.ts'))!;
      const builderEnv = readFileSync(`/proc/${builderPid}/environ`, 'utf8');
      const leaks = { keyInArgv: argvContaining(key), valueInArgv: argvContaining('mine-secret-value') };
      const runnerDir = readdirSync(tmpdir()).find((d) => d.startsWith(`estafette-build-${config.job.id}-`))!;
      writeFileSync(join(tmpdir(), runnerDir, 'work', 'go'), '');
      expect(await runner.waitFor(ref)).to.equal(0);

      expect(leaks).to.deep.equal({ keyInArgv: [], valueInArgv: [] });
      expect(builderEnv, "the builder's environment").to.not.include(key);
      const text = ingest.lines.map((l) => l?.text ?? '').join('\n');
      expect(text, 'what the stage could print').to.not.include(key);
      expect(text).to.not.include('ESTAFETTE_SECRET_KEY');
      expect(text, 'the config file was read once and removed').to.match(/builder-config\.json'?: No such file/);
      expect(ingest.lines.map((l) => l?.text)).to.include('uses ***');
      expect(ingest.statuses[ingest.statuses.length - 1]!.status).to.equal('succeeded');
    }),
  );

  const invalid: Array<{ name: string; mutate: (c: Record<string, any>) => void; problem: RegExp }> = [
    { name: 'stages not a list', mutate: (c) => (c.plan.stages = 'build'), problem: /plan\.stages must be a list/ },
    { name: 'unknown executor', mutate: (c) => (c.executor = 'podman'), problem: /executor must be/ },
    { name: 'stage without commands list', mutate: (c) => delete c.plan.stages[0].commands, problem: /plan\.stages\[0\]\.commands must be a list of strings/ },
  ];
  invalid.forEach((c) =>
    it(`a config that does not validate (${c.name}) fails the build with an init step`, async () => {
      ingest = await startIngest();
      const config = configFor([stage('s', ['true'])]) as unknown as Record<string, any>;
      c.mutate(config);
      const exit = await startBuilder(config, dir).done;
      expect(exit.code, exit.stderr).to.equal(0);
      const init = ingest.statuses.flatMap((s) => s.stages ?? [])[0]!;
      expect(init).to.include({ stage: 'init', status: 'failed' });
      expect(init.message).to.match(c.problem);
      expect(ingest.statuses[ingest.statuses.length - 1]!.status).to.equal('failed');
    }),
  );

  it('exits non-zero with one clear log line when the config cannot be reported at all', async () => {
    const exit = await startBuilder({ plan: {} }, dir).done;
    expect(exit.code).to.equal(1);
    // One structured line of the builder's own log (JSON on stderr), no stack trace.
    const lines = exit.stderr.trim().split('\n');
    expect(lines).to.have.length(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).to.include({ level: 'error', function: 'builder' });
    expect(line.msg).to.match(/^invalid builder config: .*no usable ingest/);
    expect(exit.stderr).to.not.match(/\n\s+at /);
  });
});
