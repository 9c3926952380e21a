/**
 * The one test suite every Executor implementation passes (STYLE.md: one interface, one shared
 * suite). It drives the real orchestration (runBuild) with hand-built Plans and checks what users
 * see: order, `when`, failure propagation, parallel overlap, services with readiness, retries,
 * timeouts, secret masking and cancel. Executor specifics (how to serve HTTP, whether images are
 * real) come from the fixture.
 */
import { alive } from '../support/processes.ts';
import { freePort } from '../../cli/start/database.ts';
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuild, type BuildOutcome } from '../../builder/run-build.ts';
import type { Executor } from '../../builder/executors/executor.ts';
import type { BuilderConfig } from '../../shared/plan/builder-config.ts';
import type { PlanService, PlanStage } from '../../shared/plan/types.ts';
import { openPlanSecrets } from '../../shared/secrets/plan-secrets.ts';
import { encryptSecret, generateSecretKey } from '../../shared/secrets/secret.ts';
import { configOf, planOf, service, stage } from '../fixtures/builder/plans.ts';
import { collectingReporter, type CollectingReporter } from './collecting-reporter.ts';

export interface ExecutorFixture {
  create(): Executor;
  /** Image stages run in. */
  image: string;
  /** An image that is absent and cannot be pulled; undefined when the executor ignores images. */
  missingImage?: string;
  /** Service commands answering HTTP 200 `pong` on `port` only after `delaySeconds`. */
  httpService(port: number, delaySeconds: number): Pick<PlanService, 'image' | 'shell' | 'commands'>;
  /** The host name a stage uses to reach a service. */
  serviceHost(name: string): string;
  /** A stage command printing the body of GET url. */
  httpGet(url: string): string;
  /** True when pids written by stages are host pids (checked with process.kill(pid, 0)). */
  hostPids: boolean;
  /** What a build left behind (containers, networks, processes); must be empty after a build. */
  leftovers(build: { jobId: string; workDir: string; executor: Executor }): Promise<string[]>;
}

/** A free TCP port on this machine (one definition, shared with the local mode). */
export { freePort };

interface Ran {
  outcome: BuildOutcome;
  reporter: CollectingReporter;
  workDir: string;
  config: BuilderConfig;
  /** stage#run → final status */
  status: Record<string, string>;
}

/**
 * Registers the shared suite for one executor. `factory` returns the fixture; when the executor
 * cannot run here it skips the suite through the given mocha context (or throws to fail it).
 */
export function describeExecutor(name: string, factory: (ctx: Mocha.Context) => Promise<ExecutorFixture>): void {
  describe(`executor contract: ${name}`, function () {
    this.timeout(60_000);
    let fx: ExecutorFixture;
    const dirs: string[] = [];

    before(async function () {
      const r = await factory(this);
      fx = r;
    });

    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    const img = (s: PlanStage): PlanStage => ({ ...s, image: s.image === 'estafette-test/busybox:1' ? fx.image : s.image, parallelStages: s.parallelStages.map(img) });

    /** Runs `stages`; with `secretKey`, their secrets are opened as build-dispatch opens them. */
    const run = async (stages: PlanStage[], over: Partial<BuilderConfig> = {}, setup?: (r: CollectingReporter, cancel: AbortController) => void, secretKey?: string): Promise<Ran> => {
      const workDir = mkdtempSync(join(tmpdir(), 'estafette-exec-'));
      dirs.push(workDir);
      const plan = planOf(stages.map(img));
      const config = configOf(plan, workDir, { ...(secretKey ? { secrets: openPlanSecrets(plan, secretKey) } : {}), ...over });
      const reporter = collectingReporter();
      const cancel = new AbortController();
      setup?.(reporter, cancel);
      const executor = fx.create();
      const outcome = await runBuild(config, { executor, reporter, cancel: cancel.signal });
      const status = Object.fromEntries(reporter.finals().map((s) => [`${s.stage}#${s.run}`, s.status]));
      expect(await fx.leftovers({ jobId: config.job.id, workDir, executor }), 'resources left behind').to.deep.equal([]);
      return { outcome, reporter, workDir, config, status };
    };

    it('runs stages in order in one shared work dir and reports the build', async () => {
      const r = await run([stage('one', ['echo one > order']), stage('two', ['echo two >> order']), stage('three', ['cat order'])]);
      expect(r.outcome.status).to.equal('succeeded');
      expect(r.reporter.finals().map((s) => `${s.stage}:${s.status}`)).to.deep.equal(['one:succeeded', 'two:succeeded', 'three:succeeded']);
      expect(r.reporter.textOf('three')).to.deep.equal(['> cat order', 'one', 'two']);
      expect(r.reporter.jobStatuses()).to.deep.equal(['running', 'succeeded']);
      for (const s of r.reporter.finals()) expect(s.durationMs).to.be.a('number');
    });

    it('keeps the order in which commands wrote stdout and stderr (a stderr line written before later stdout lands before it)', async () => {
      const r = await run([stage('s', ['for i in $(seq 1 200); do echo "out $i"; echo "err $i" >&2; done', 'echo last-out; echo last-err >&2; echo after-err', 'false', 'echo never'])]);
      const expected = ['> for i in $(seq 1 200); do echo "out $i"; echo "err $i" >&2; done'];
      for (let i = 1; i <= 200; i++) expected.push(`out ${i}`, `err ${i}`);
      expected.push('> echo last-out; echo last-err >&2; echo after-err', 'last-out', 'last-err', 'after-err', '> false');
      expect(r.reporter.textOf('s')).to.deep.equal(expected);
      // One channel keeps the order; the price is the stream marking of command output (see entrypoint.ts).
      expect(r.reporter.lines.filter((l) => l.stage === 's' && l.stream === 'stderr').map((l) => l.text)).to.deep.equal([]);
      expect(r.outcome.status).to.equal('failed');
      expect(r.reporter.finals()[0]).to.include({ status: 'failed', message: 'exit code 1' });
    });

    it('echoes each command as written and leaves ${ESTAFETTE_*} in commands to the shell (Estafette: `> echo ${ESTAFETTE_BUILD_VERSION}`)', async () => {
      const r = await run([stage('env', ['echo "$GREETING ${ESTAFETTE_GIT_BRANCH} $ESTAFETTE_BUILD_STATUS ${NOT_EXPANDED:-shell}"'], { env: { GREETING: 'hi', ESTAFETTE_STAGE_NAME: 'env' } })]);
      expect(r.reporter.textOf('env')).to.deep.equal(['> echo "$GREETING ${ESTAFETTE_GIT_BRANCH} $ESTAFETTE_BUILD_STATUS ${NOT_EXPANDED:-shell}"', 'hi main succeeded shell']);
    });

    it("expands ${ESTAFETTE_*} in env values (global and stage env) before the stage runs, as Estafette's docker runner does", async () => {
      const env = { ESTAFETTE_STAGE_NAME: 'env', FROM_GLOBAL: 'g-${ESTAFETTE_GIT_BRANCH}', FROM_STAGE: 's-${ESTAFETTE_BUILD_VERSION}-${ESTAFETTE_BUILD_STATUS}', OTHER: '${HOME}:$HOME:${ESTAFETTE_UNSET}.' };
      const r = await run([stage('env', ['printf "%s|%s|%s\\n" "$FROM_GLOBAL" "$FROM_STAGE" "$OTHER"'], { env })]);
      expect(r.reporter.textOf('env')[1]).to.equal('g-main|s-1.0.7-succeeded|${HOME}:$HOME:.');
    });

    it("gives a stage exactly the plan env plus PATH, HOME and locale, never the builder's own variables (master key, config path)", async () => {
      const saved = { key: process.env.ESTAFETTE_SECRET_KEY, cfg: process.env.BUILDER_CONFIG_PATH };
      process.env.ESTAFETTE_SECRET_KEY = 'master-key-in-the-builder-env';
      process.env.BUILDER_CONFIG_PATH = '/builder/config.json';
      let r: Ran;
      try {
        r = await run([stage('env', ['env'], { env: { ESTAFETTE_STAGE_NAME: 'env', MINE: 'yes' } })]);
      } finally {
        for (const [k, v] of [
          ['ESTAFETTE_SECRET_KEY', saved.key],
          ['BUILDER_CONFIG_PATH', saved.cfg],
        ] as const) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
      const names = r.reporter
        .textOf('env')
        .slice(1)
        .map((l) => l.split('=')[0]!);
      const planNames = [...Object.keys(r.config.plan.estafetteEnv), 'ESTAFETTE_STAGE_NAME', 'ESTAFETTE_BUILD_STATUS', 'MINE'];
      // What the shell (PWD, SHLVL, _), the container runtime (HOSTNAME) or the executor (image facts) sets on its own.
      const base = /^(PATH|HOME|LANG|LANGUAGE|LC_[A-Z_]+|PWD|OLDPWD|SHLVL|_|HOSTNAME|ESTAFETTE_STAGE_IMAGE_SHA|ESTAFETTE_STAGE_IMAGE_CREATED_DATE)$/;
      expect(
        names.filter((n) => !planNames.includes(n) && !base.test(n)),
        'variables from outside the plan',
      ).to.deep.equal([]);
      expect(names).to.include.members([...planNames, 'PATH']);
      expect(r.reporter.lines.map((l) => l.text).join('\n')).to.not.include('master-key-in-the-builder-env');
    });

    const whenCases: Array<{ name: string; when: string; expected: string }> = [
      { name: 'default condition on a succeeded build', when: "status == 'succeeded'", expected: 'succeeded' },
      { name: 'branch mismatch', when: "branch == 'release'", expected: 'skipped' },
      { name: 'regex on branch', when: "branch =~ 'ma.*'", expected: 'succeeded' },
      { name: 'status failed on a succeeded build', when: "status == 'failed'", expected: 'skipped' },
      { name: 'server parameter', when: "server == 'estafette'", expected: 'succeeded' },
      { name: 'expanded ESTAFETTE variable', when: "'${ESTAFETTE_GIT_NAME}' == 'demo'", expected: 'succeeded' },
    ];
    whenCases.forEach((c) =>
      it(`when: ${c.name} → ${c.expected}`, async () => {
        const r = await run([stage('w', ['echo ran'], { when: c.when })]);
        expect(r.status['w#1']).to.equal(c.expected);
        expect(r.reporter.textOf('w').includes('ran')).to.equal(c.expected === 'succeeded');
      }),
    );

    it('an invalid when fails the build', async () => {
      const r = await run([stage('bad', ['echo ran'], { when: 'status ==' }), stage('after', ['echo after'])]);
      expect(r.outcome.status).to.equal('failed');
      expect(r.reporter.finals()[0]).to.include({ stage: 'bad', status: 'failed' });
      expect(r.reporter.finals()[0]!.message).to.match(/invalid when/);
      expect(r.status['after#1']).to.equal('skipped');
    });

    it('after a failure skips default stages and runs status == failed stages with status failed', async () => {
      const r = await run([
        stage('fails', ['exit 3']),
        stage('skipped', ['echo nope']),
        stage('on-failure', ['echo "status=$ESTAFETTE_BUILD_STATUS"'], { when: "status == 'failed'" }),
        stage('always', ['echo always'], { when: "status == 'succeeded' || status == 'failed'" }),
      ]);
      expect(r.outcome.status).to.equal('failed');
      expect(r.status).to.deep.equal({ 'fails#1': 'failed', 'skipped#1': 'skipped', 'on-failure#1': 'succeeded', 'always#1': 'succeeded' });
      expect(r.reporter.finals()[0]!.message).to.equal('exit code 3');
      expect(r.reporter.textOf('on-failure')).to.include('status=failed');
      expect(r.reporter.jobStatuses()).to.deep.equal(['running', 'failed']);
    });

    it('runs parallel stages really concurrently (each waits for a file the other creates)', async () => {
      const waitFor = (mine: string, other: string): string[] => [
        `touch ${mine}`,
        `i=0; while [ ! -f ${other} ]; do i=$((i+1)); if [ $i -gt 200 ]; then echo "no ${other}"; exit 1; fi; sleep 0.1; done`,
        `echo saw ${other}`,
      ];
      const parent = stage('par', [], { image: '', parallelStages: [stage('a', waitFor('a.ready', 'b.ready')), stage('b', waitFor('b.ready', 'a.ready')), stage('c', ['echo c'], { when: "branch == 'x'" })] });
      const r = await run([parent, stage('after', ['echo after'])]);
      expect(r.status).to.deep.equal({ 'par/a#1': 'succeeded', 'par/b#1': 'succeeded', 'par/c#1': 'skipped', 'par#1': 'succeeded', 'after#1': 'succeeded' });
      expect(r.reporter.textOf('par/a')).to.include('saw b.ready');
      expect(r.reporter.textOf('par/b')).to.include('saw a.ready');
      expect(r.reporter.finals().find((s) => s.stage === 'par/a')).to.include({ parent: 'par', kind: 'stage' });
    });

    it('a failing parallel child fails its parent and the build', async () => {
      const parent = stage('par', [], { image: '', parallelStages: [stage('ok', ['true']), stage('bad', ['exit 4'])] });
      const r = await run([parent, stage('after', ['echo after'])]);
      expect(r.status).to.include({ 'par/ok#1': 'succeeded', 'par/bad#1': 'failed', 'par#1': 'failed', 'after#1': 'skipped' });
      expect(r.outcome.status).to.equal('failed');
    });

    it('starts a service, waits for its HTTP readiness, then runs the stage and stops the service', async () => {
      const port = await freePort();
      const svc = service('web', [], { ...fx.httpService(port, 1), readiness: { kind: 'http', scheme: 'http', host: 'web', port, path: '/', timeoutSeconds: 30 } });
      const r = await run([stage('uses-web', [fx.httpGet(`http://${fx.serviceHost('web')}:${port}/`)], { services: [svc] })]);
      expect(r.status).to.deep.equal({ 'uses-web#1': 'succeeded', 'uses-web/web#1': 'succeeded' });
      expect(r.reporter.textOf('uses-web')).to.include('pong');
      const order = r.reporter.reports.flatMap((x) => x.stages ?? []).map((s) => `${s.stage}:${s.status}`);
      expect(order.indexOf('uses-web/web:running')).to.be.lessThan(order.indexOf('uses-web:running'));
      expect(order.indexOf('uses-web:succeeded')).to.be.lessThan(order.indexOf('uses-web/web:succeeded'));
    });

    it('starts the services of a parallel child for that child', async () => {
      const port = await freePort();
      const svc = service('api', [], { ...fx.httpService(port, 0), readiness: { kind: 'http', scheme: 'http', host: 'api', port, path: '/', timeoutSeconds: 30 } });
      const parent = stage('par', [], { image: '', parallelStages: [stage('client', [fx.httpGet(`http://${fx.serviceHost('api')}:${port}/`)], { services: [svc] }), stage('other', ['true'])] });
      const r = await run([parent]);
      expect(r.status).to.deep.equal({ 'par/other#1': 'succeeded', 'par/client#1': 'succeeded', 'par/client/api#1': 'succeeded', 'par#1': 'succeeded' });
      expect(r.reporter.textOf('par/client')).to.include('pong');
    });

    it('waits for an exec readiness probe before running the stage', async () => {
      const svc = service('worker', ['sleep 1', 'touch worker.ready', 'sleep 60'], { readiness: { kind: 'exec', command: ['sh', '-c', 'test -f worker.ready'], timeoutSeconds: 30 } });
      const r = await run([stage('after-worker', ['test -f worker.ready', 'echo worker was ready'], { services: [svc] })]);
      expect(r.status).to.deep.equal({ 'after-worker#1': 'succeeded', 'after-worker/worker#1': 'succeeded' });
      expect(r.reporter.textOf('after-worker')).to.include('worker was ready');
    });

    it('fails the stage when a service is not ready within its timeout', async () => {
      const port = await freePort();
      const svc = service('slow', [], { ...fx.httpService(port, 30), readiness: { kind: 'http', scheme: 'http', host: 'slow', port, path: '/', timeoutSeconds: 1 } });
      const r = await run([stage('needs-slow', ['echo ran'], { services: [svc] })]);
      expect(r.outcome.status).to.equal('failed');
      expect(r.reporter.finals().find((s) => s.stage === 'needs-slow')).to.include({ status: 'failed', message: 'service slow not ready after 1s' });
      expect(r.reporter.textOf('needs-slow')).to.not.include('ran');
    });

    it('fails the stage, naming the image, when a service cannot start', async () => {
      const svc = service('db', fx.missingImage ? ['true'] : [], { image: fx.missingImage ?? 'postgres:16' });
      const r = await run([stage('needs-db', ['echo ran'], { services: [svc] })]);
      expect(r.outcome.status).to.equal('failed');
      const failed = r.reporter.finals().find((s) => s.stage === 'needs-db')!;
      expect(failed.status).to.equal('failed');
      expect(failed.message).to.include(fx.missingImage ?? 'postgres:16');
      expect(r.reporter.textOf('needs-db')).to.not.include('ran');
    });

    it('keeps a multiStage service until the last stage', async () => {
      const port = await freePort();
      const svc = service('db', [], { ...fx.httpService(port, 0), multiStage: true, readiness: { kind: 'http', scheme: 'http', host: 'db', port, path: '/', timeoutSeconds: 30 } });
      const r = await run([stage('first', ['true'], { services: [svc] }), stage('second', [fx.httpGet(`http://${fx.serviceHost('db')}:${port}/`)])]);
      expect(r.reporter.textOf('second')).to.include('pong');
      const order = r.reporter.finals().map((s) => s.stage);
      expect(order).to.deep.equal(['first', 'second', 'first/db']);
    });

    it('a stage with only services (no image, no commands) starts them and succeeds, and later stages reach them (Estafette)', async () => {
      const port = await freePort();
      // multiStage as the compiler sets it for a stage without an image.
      const svc = service('db', [], { ...fx.httpService(port, 0), multiStage: true, readiness: { kind: 'http', scheme: 'http', host: 'db', port, path: '/', timeoutSeconds: 30 } });
      const r = await run([stage('services', [], { image: '', services: [svc] }), stage('uses-db', [fx.httpGet(`http://${fx.serviceHost('db')}:${port}/`)])]);
      expect(r.status).to.deep.equal({ 'services#1': 'succeeded', 'uses-db#1': 'succeeded', 'services/db#1': 'succeeded' });
      expect(r.reporter.textOf('uses-db')).to.include('pong');
      expect(r.outcome.status).to.equal('succeeded');
    });

    it('retries a failing stage, each attempt its own run', async () => {
      const r = await run([stage('flaky', ['n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo "attempt $n"; [ $n -ge 3 ]'], { retries: 3 })]);
      expect(r.status).to.deep.equal({ 'flaky#1': 'failed', 'flaky#2': 'failed', 'flaky#3': 'succeeded' });
      expect(r.reporter.textOf('flaky', 2)).to.include('attempt 2');
      expect(r.reporter.textOf('flaky', 3)).to.include('attempt 3');
      expect(r.outcome.status).to.equal('succeeded');
    });

    it('gives up after the retries are used', async () => {
      const r = await run([stage('broken', ['exit 2'], { retries: 1 })]);
      expect(r.status).to.deep.equal({ 'broken#1': 'failed', 'broken#2': 'failed' });
      expect(r.outcome.status).to.equal('failed');
    });

    it('kills and fails a stage that runs past its timeout', async () => {
      const t0 = Date.now();
      const r = await run([stage('slow', ['echo started', 'sleep 30'], { timeoutSeconds: 1 }), stage('next', ['true'])]);
      expect(r.reporter.finals()[0]).to.include({ stage: 'slow', status: 'failed', message: 'timed out after 1s' });
      expect(r.status['next#1']).to.equal('skipped');
      expect(Date.now() - t0).to.be.lessThan(15_000);
    });

    it('masks secrets (plain, base64, each line of a multi-line value) in every line', async () => {
      const key = generateSecretKey();
      const plain = 'hunter2-password';
      const multi = 'first-line-secret\nsecond-line-secret';
      const env = { PLAIN: encryptSecret(plain, key), MULTI: encryptSecret(multi, key), SHORT: encryptSecret('abc', key), ESTAFETTE_STAGE_NAME: 's' };
      const r = await run(
        [stage('s', ['echo "plain=$PLAIN"', 'printf %s "$PLAIN" | base64', 'echo "$MULTI"', 'echo "short=$SHORT"', 'echo "$PLAIN" >&2'], { env, customProperties: { token: encryptSecret('property-secret', key) } })],
        {},
        undefined,
        key,
      );
      const text = r.reporter.lines.map((l) => l.text).join('\n');
      expect(r.outcome.status).to.equal('succeeded');
      for (const leak of [plain, Buffer.from(plain).toString('base64'), 'first-line-secret', 'second-line-secret']) expect(text).to.not.include(leak);
      const lines = r.reporter.textOf('s');
      expect(lines).to.include.members(['plain=***', '***', 'short=abc']);
      expect(lines[lines.indexOf('> echo "$PLAIN" >&2') + 1]).to.equal('***');
    });

    it('masks credential values from the builder config', async () => {
      const r = await run([stage('creds', ['echo "token ghp_very_secret_token"'])], { credentials: [{ name: 'github', type: 'github-api-token', values: { token: 'ghp_very_secret_token' } }] });
      expect(r.reporter.textOf('creds')).to.deep.equal(['> echo "token ***"', 'token ***']);
    });

    it('fails the build with a validate-secrets step when a secret is restricted to other pipelines', async () => {
      const key = generateSecretKey();
      const r = await run([stage('s', ['echo ran'], { env: { X: encryptSecret('value-x', key, 'github.com/other/.*') } })], {}, undefined, key);
      expect(r.outcome.status).to.equal('failed');
      expect(r.reporter.finals()[0]).to.include({ stage: 'validate-secrets', status: 'failed' });
      expect(r.status['s#1']).to.equal('skipped');
      expect(r.reporter.lines.map((l) => l.text)).to.not.include('ran');
    });

    it('cancel stops the running stage and its children, marks the rest canceled', async () => {
      let pidFile = '';
      const r = await run([stage('long', ['sleep 300 & echo $! > bg.pid', 'echo ready', 'wait']), stage('later', ['echo later'])], { cancelGraceSeconds: 2 }, (rep, cancel) => {
        rep.onLine = (s, text) => {
          if (s === 'long' && text === 'ready') cancel.abort();
        };
      });
      pidFile = join(r.workDir, 'bg.pid');
      expect(r.outcome.status).to.equal('canceled');
      expect(r.status).to.deep.equal({ 'long#1': 'canceled', 'later#1': 'canceled' });
      expect(r.reporter.jobStatuses()).to.deep.equal(['running', 'canceled']);
      if (fx.hostPids) {
        expect(existsSync(pidFile)).to.equal(true);
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        expect(alive(pid), `background process ${pid} still alive`).to.equal(false);
      }
    });

    it('a stage without commands or with a missing image fails with a message naming the image', async function () {
      if (!fx.missingImage) {
        const r = await run([stage('ext', [], { image: 'extensions/gke:1' })]);
        expect(r.reporter.finals()[0]!.status).to.equal('failed');
        expect(r.reporter.finals()[0]!.message).to.include('extensions/gke:1');
        return;
      }
      const r = await run([stage('ext', ['true'], { image: fx.missingImage })]);
      expect(r.reporter.finals()[0]!.status).to.equal('failed');
      expect(r.reporter.finals()[0]!.message).to.include(fx.missingImage);
    });
  });
}
