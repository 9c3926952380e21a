/**
 * The shared executor suite against the host executor (child processes), with a real "left
 * behind" check: after every build, no live process may be in a process group the executor
 * started, nor have its working directory in the build's work dir (a process that left its
 * group). The specs below show that the check fails when something is left.
 */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHostExecutor, ESCAPED_HOLDER_MS, type HostExecutor } from '../../builder/executors/host.ts';
import type { Executor } from '../../builder/executors/executor.ts';
import { runBuild } from '../../builder/run-build.ts';
import { configOf, planOf, stage } from '../fixtures/builder/plans.ts';
import { collectingReporter } from './collecting-reporter.ts';
import { describeExecutor } from './executor-suite.ts';

/** Live processes (not zombies) in a process group `executor` started, or working in `workDir`. */
function hostLeftovers(executor: Executor, workDir: string): string[] {
  const groups = new Set((executor as HostExecutor).processGroups());
  const found: string[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // After the parenthesised command: state, ppid, pgrp, …
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 80);
      if (groups.has(Number(pgrp))) found.push(`pid ${e} in group ${pgrp}: ${cmd}`);
      else if (`${readlinkSync(`/proc/${e}/cwd`)}/`.startsWith(`${workDir}/`)) found.push(`pid ${e} working in the work dir: ${cmd}`);
    } catch {
      // Gone while we looked, or not ours to read.
    }
  }
  return found;
}

describeExecutor('host', async () => ({
  create: createHostExecutor,
  image: 'estafette-test/busybox:1',
  httpService: (port, delay) => ({
    image: 'node:20',
    shell: '/bin/sh',
    commands: [`exec node -e "setTimeout(() => require('http').createServer((q, s) => s.end('pong')).listen(${port}, '127.0.0.1'), ${delay * 1000})"`],
  }),
  serviceHost: () => '127.0.0.1',
  httpGet: (url) => `node -e "fetch('${url}').then((r) => r.text()).then((t) => console.log(t))"`,
  hostPids: true,
  leftovers: async ({ executor, workDir }) => hostLeftovers(executor, workDir),
}));

describe('host executor: the left-behind check can fail', function () {
  this.timeout(30_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const work = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'estafette-host-'));
    dirs.push(d);
    return d;
  };

  it('sees the process group of a stage that is still running', async () => {
    const workDir = work();
    const executor = createHostExecutor();
    const reporter = collectingReporter();
    const cancel = new AbortController();
    let during: string[] = [];
    reporter.onLine = (_s, text) => {
      if (text !== 'ready') return;
      during = hostLeftovers(executor, workDir);
      cancel.abort();
    };
    await runBuild(configOf(planOf([stage('bg', ['sleep 30 &', 'echo ready', 'wait'])]), workDir), { executor, reporter, cancel: cancel.signal });
    expect(
      during.some((l) => l.includes('sleep 30')),
      during.join('\n'),
    ).to.equal(true);
    expect(hostLeftovers(executor, workDir), 'after the build').to.deep.equal([]);
  });

  it("sees a process that left the stage's process group; the build does not wait for the output it holds open", async function () {
    this.timeout(ESCAPED_HOLDER_MS + 20_000);
    const workDir = work();
    const executor = createHostExecutor();
    const reporter = collectingReporter();
    // setsid: a new session and group, out of reach of the stage's group kill, holding stdout;
    // the stage ends once the escape has happened.
    const escapeScript = ["setsid sh -c 'echo $$ > escaped.pid; exec sleep 60' &", 'while [ ! -s escaped.pid ]; do sleep 0.05; done', 'echo started'];
    const outcome = await runBuild(configOf(planOf([stage('escape', escapeScript)]), workDir), { executor, reporter, cancel: new AbortController().signal });
    const left = hostLeftovers(executor, workDir);
    for (const l of left) process.kill(Number(/^pid (\d+)/.exec(l)![1]), 'SIGKILL');
    expect(outcome.status).to.equal('succeeded');
    expect(reporter.textOf('escape')).to.include('estafette: stopped reading the output of the stage: a process that left the stage keeps its output open');
    expect(
      left.some((l) => l.includes('working in the work dir: sleep 60')),
      left.join('\n'),
    ).to.equal(true);
  });
});
