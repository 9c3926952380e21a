/**
 * The builder's orchestration (runBuild) against the scripted fake executor and the fake clock:
 * order, reports, timeouts, retries, readiness, services, cancel, secrets and the env a stage
 * gets — deterministic, fast, and without a single real sleep. What a real process or container
 * does is the executor suite's business (executor-suite.ts).
 */
import { expect } from 'chai';
import { runBuild, type BuildOutcome } from '../../builder/run-build.ts';
import type { BuilderConfig } from '../../shared/plan/builder-config.ts';
import type { PlanStage } from '../../shared/plan/types.ts';
import { configOf, planOf, service, stage } from '../fixtures/builder/plans.ts';
import { FakeClock, settle } from '../support/fake-clock.ts';
import { collectingReporter, type CollectingReporter } from './collecting-reporter.ts';
import { FakeExecutor } from './fake-executor.ts';

interface Run {
  outcome: BuildOutcome;
  reporter: CollectingReporter;
  executor: FakeExecutor;
  /** stage#run → final status */
  status: Record<string, string>;
}

/** Starts a build; `drive` acts while it runs (advance the clock, cancel). */
async function build(
  stages: PlanStage[],
  executor: FakeExecutor,
  options: { over?: Partial<BuilderConfig>; clock?: FakeClock; drive?: (ctl: { clock: FakeClock; cancel: AbortController; executor: FakeExecutor }) => Promise<void> } = {},
): Promise<Run> {
  const clock = options.clock ?? new FakeClock();
  const reporter = collectingReporter();
  const cancel = new AbortController();
  const running = runBuild(configOf(planOf(stages), '/nonexistent/work', options.over), { executor, reporter, cancel: cancel.signal, clock });
  await options.drive?.({ clock, cancel, executor });
  const outcome = await running;
  const status = Object.fromEntries(reporter.finals().map((s) => [`${s.stage}#${s.run}`, s.status]));
  expect(executor.running, 'services left running').to.deep.equal([]);
  if (executor.calls.includes('setup')) expect(executor.calls[executor.calls.length - 1], 'the executor is destroyed last').to.equal('destroy');
  return { outcome, reporter, executor, status };
}

describe('runBuild orchestration (fake executor, fake clock)', () => {
  it('runs stages in order between setup and destroy; the job status is the first and the last report', async () => {
    const r = await build([stage('a', ['x']), stage('b', ['y'])], new FakeExecutor());
    expect(r.executor.calls).to.deep.equal(['setup', 'run a#1', 'run b#1', 'destroy']);
    expect(r.reporter.reports[0]).to.deep.equal({ status: 'running' });
    expect(r.reporter.reports[r.reporter.reports.length - 1]).to.deep.equal({ status: 'succeeded' });
    expect(r.reporter.reports.flatMap((x) => x.stages ?? []).map((s) => `${s.stage}:${s.status}`)).to.deep.equal(['a:running', 'a:succeeded', 'b:running', 'b:succeeded']);
  });

  it('takes start times and durations from the injected clock', async () => {
    const clock = new FakeClock(Date.parse('2030-06-01T12:00:00.000Z'));
    let release = (): void => undefined;
    const executor = new FakeExecutor({ stages: { slow: { run: () => new Promise<void>((r) => (release = r)) } } });
    const r = await build([stage('slow', ['x'])], executor, {
      clock,
      drive: async ({ executor: ex }) => {
        await ex.started('slow');
        await clock.advance(1234);
        release();
      },
    });
    expect(r.reporter.finals()[0]).to.include({ stage: 'slow', status: 'succeeded', startedAt: '2030-06-01T12:00:00.000Z', finishedAt: '2030-06-01T12:00:01.234Z', durationMs: 1234 });
  });

  it('a stage past its timeout is stopped and failed on the build clock; each retry is its own run', async () => {
    const executor = new FakeExecutor({ stages: { stuck: { hang: true } } });
    const r = await build([stage('stuck', ['x'], { timeoutSeconds: 30, retries: 1 }), stage('next', ['y'])], executor, {
      drive: async ({ clock }) => {
        await executor.started('stuck');
        await clock.advance(29_999);
        expect(executor.calls, 'not before the timeout').to.deep.equal(['setup', 'run stuck#1']);
        await clock.advance(1);
        await clock.advance(30_000);
      },
    });
    expect(r.status).to.deep.equal({ 'stuck#1': 'failed', 'stuck#2': 'failed', 'next#1': 'skipped' });
    expect(r.reporter.finals()[0]).to.include({ message: 'timed out after 30s', durationMs: 30_000 });
    expect(r.reporter.textOf('stuck', 1)).to.deep.equal(['estafette: timed out after 30s', 'estafette: retrying (run 2 of 2)']);
    expect(r.outcome.status).to.equal('failed');
  });

  it('retries a failing stage until it succeeds', async () => {
    const r = await build([stage('flaky', ['x'], { retries: 3 })], new FakeExecutor({ stages: { flaky: { exit: (n) => (n < 3 ? 1 : 0) } } }));
    expect(r.status).to.deep.equal({ 'flaky#1': 'failed', 'flaky#2': 'failed', 'flaky#3': 'succeeded' });
    expect(r.outcome.status).to.equal('succeeded');
  });

  it('a service not ready within its timeout fails its stage before the stage runs (probes every 250 ms on the build clock)', async () => {
    const executor = new FakeExecutor({ services: { 'uses/db': { ready: [false] } } });
    const svc = service('db', ['serve'], { readiness: { kind: 'http', scheme: 'http', host: 'db', port: 5432, path: '/', timeoutSeconds: 2 } });
    const r = await build([stage('uses', ['x'], { services: [svc] })], executor, { drive: ({ clock }) => clock.advance(2_000) });
    expect(executor.calls.filter((c) => c.startsWith('probe')).length).to.equal(9); // at 0, 250, …, 2000 ms
    expect(executor.calls).to.not.include('run uses#1');
    expect(r.reporter.finals().find((s) => s.stage === 'uses')).to.include({ status: 'failed', message: 'service db not ready after 2s' });
    expect(r.executor.calls).to.include('stop uses/db');
  });

  it('a service that exits before it is ready fails its stage', async () => {
    const executor = new FakeExecutor({ services: { 'uses/db': { ready: [false], exitAfterProbes: 2 } } });
    const svc = service('db', ['serve'], { readiness: { kind: 'exec', command: ['true'], timeoutSeconds: 60 } });
    const r = await build([stage('uses', ['x'], { services: [svc] })], executor, { drive: ({ clock }) => clock.advance(1_000) });
    expect(r.reporter.finals().find((s) => s.stage === 'uses')).to.include({ status: 'failed', message: 'service db exited before it was ready' });
  });

  it('a stage with only services starts them and succeeds without running anything; they serve later stages and stop at the end', async () => {
    const executor = new FakeExecutor();
    const svc = service('db', ['serve'], { multiStage: true, readiness: { kind: 'exec', command: ['true'], timeoutSeconds: 10 } });
    const r = await build([stage('services', [], { image: '', services: [svc] }), stage('uses', ['x'])], executor);
    expect(executor.calls).to.deep.equal(['setup', 'start services/db', 'probe services/db', 'run uses#1', 'stop services/db', 'destroy']);
    expect(r.status).to.deep.equal({ 'services#1': 'succeeded', 'uses#1': 'succeeded', 'services/db#1': 'succeeded' });
  });

  it('cancel stops the running stage, marks the rest canceled, stops services and still destroys', async () => {
    const executor = new FakeExecutor({ stages: { long: { hang: true } } });
    const svc = service('db', ['serve'], { multiStage: true });
    const r = await build([stage('first', ['x'], { services: [svc] }), stage('long', ['y']), stage('later', ['z'])], executor, {
      drive: async ({ cancel }) => {
        await executor.started('long');
        cancel.abort();
      },
    });
    expect(r.status).to.deep.equal({ 'first#1': 'succeeded', 'long#1': 'canceled', 'later#1': 'canceled', 'first/db#1': 'canceled' });
    expect(r.outcome.status).to.equal('canceled');
    expect(r.reporter.jobStatuses()).to.deep.equal(['running', 'canceled']);
  });

  it('runs parallel children concurrently and fails the parent when one fails', async () => {
    const executor = new FakeExecutor({ stages: { 'par/a': { run: () => executor.started('par/b') }, 'par/b': { run: () => executor.started('par/a'), exit: 2 } } });
    const r = await build([stage('par', [], { image: '', parallelStages: [stage('a', ['x']), stage('b', ['y'])] }), stage('after', ['z'])], executor);
    expect(r.status).to.deep.equal({ 'par/a#1': 'succeeded', 'par/b#1': 'failed', 'par#1': 'failed', 'after#1': 'skipped' });
  });

  it('passes commands raw and expands ${ESTAFETTE_*} in env values with the status as it is now', async () => {
    const executor = new FakeExecutor({ stages: { fails: { exit: 1 } } });
    const env = { ESTAFETTE_STAGE_NAME: 'report', STATUS: 'was ${ESTAFETTE_BUILD_STATUS} on ${ESTAFETTE_GIT_BRANCH}', KEEP: '${HOME} $ESTAFETTE_GIT_BRANCH' };
    await build([stage('fails', ['x']), stage('report', ['echo ${ESTAFETTE_BUILD_VERSION} $STATUS'], { when: "status == 'failed'", env })], executor);
    const spec = executor.specs.find((s) => s.path === 'report')!;
    expect(spec.commands).to.deep.equal(['echo ${ESTAFETTE_BUILD_VERSION} $STATUS']);
    expect(spec.env).to.include({ STATUS: 'was failed on main', KEEP: '${HOME} $ESTAFETTE_GIT_BRANCH', ESTAFETTE_BUILD_STATUS: 'failed', ESTAFETTE_BUILD_VERSION: '1.0.7' });
  });

  it('puts the handed-over secret values in the env and masks them in lines and messages', async () => {
    const envelope = 'estafette.secret(bm9uY2Vub25jZW5v.Y2lwaGVydGV4dA==)';
    const executor = new FakeExecutor({ stages: { s: { lines: ['token=hunter2-value', { stream: 'stderr', text: 'again hunter2-value' }], exit: 1, message: 'hunter2-value leaked' } } });
    const r = await build([stage('s', ['x'], { env: { ESTAFETTE_STAGE_NAME: 's', TOKEN: envelope } })], executor, { over: { secrets: { values: { [envelope]: 'hunter2-value' } } } });
    expect(executor.specs[0]!.env.TOKEN).to.equal('hunter2-value');
    expect(r.reporter.textOf('s')).to.deep.equal(['token=***', 'again ***', 'estafette: *** leaked']);
    expect(r.reporter.finals()[0]!.message).to.equal('*** leaked');
  });

  it('a plan whose secrets build-dispatch refused fails with a validate-secrets step and runs nothing', async () => {
    const executor = new FakeExecutor();
    const r = await build([stage('s', ['x'])], executor, { over: { secrets: { values: {}, refused: 'a secret in this manifest is restricted to other pipelines' } } });
    expect(executor.calls).to.deep.equal([]);
    expect(r.status).to.deep.equal({ 'validate-secrets#1': 'failed', 's#1': 'skipped' });
    expect(r.reporter.textOf('validate-secrets')).to.deep.equal(['estafette: a secret in this manifest is restricted to other pipelines']);
    expect(r.reporter.jobStatuses()).to.deep.equal(['running', 'failed']);
  });

  it('an executor that cannot set up fails one executor step, skips every stage and is still destroyed', async () => {
    const executor = new FakeExecutor({ setupError: 'no engine at unix:///nowhere' });
    const r = await build([stage('s', ['x'])], executor);
    expect(executor.calls).to.deep.equal(['setup', 'destroy']);
    expect(r.reporter.finals()[0]).to.include({ stage: 'executor', status: 'failed', message: 'the fake executor cannot start: no engine at unix:///nowhere' });
    expect(r.status['s#1']).to.equal('skipped');
  });

  it('an executor that rejects fails the stage, not the build process', async () => {
    const r = await build([stage('s', ['x']), stage('after', ['y'], { when: "status == 'failed'" })], new FakeExecutor({ stages: { s: { throws: 'engine went away' } } }));
    expect(r.reporter.finals()[0]).to.include({ stage: 's', status: 'failed', message: 'executor error: engine went away' });
    expect(r.status['after#1']).to.equal('succeeded');
  });

  it('waits for nothing real: a build with a 1-hour timeout and a 10-minute readiness wait finishes within fake time', async () => {
    const executor = new FakeExecutor({ stages: { stuck: { hang: true } }, services: { 'stuck/db': { ready: [false, false, true] } } });
    const svc = service('db', ['serve'], { readiness: { kind: 'exec', command: ['true'], timeoutSeconds: 600 } });
    const r = await build([stage('stuck', ['x'], { timeoutSeconds: 3600, services: [svc] })], executor, {
      drive: async ({ clock }) => {
        await clock.advance(500);
        await executor.started('stuck');
        await clock.advance(3_600_000);
        await settle();
      },
    });
    expect(r.status).to.deep.equal({ 'stuck#1': 'failed', 'stuck/db#1': 'succeeded' });
  });
});
