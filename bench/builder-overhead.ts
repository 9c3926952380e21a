/**
 * Benchmark 4, builder overhead: `estafette run` (host executor) of a pipeline of 20 trivial stages
 * against the same 20 commands in one shell script, and against the same 20 commands each in its
 * own `sh -c` (what a stage costs at the least), repeated hyperfine-style in this process. The
 * per-stage overhead is the slope between a 20-stage and a 1-stage pipeline, so the CLI's one-off
 * start (node, tsx, manifest compile) is not spread over the stages; the naive figure
 * ((run − script) / 20) is shown too. Goal: < 30 ms per stage.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileMarkdown, summariseProfileDir } from './cpu-profile.ts';
import { median, withCleanup } from './environment.ts';
import { ms, section, table, writeSection } from './report.ts';

const STAGES = 20;
const CLI = new URL('../bin/estafette.js', import.meta.url).pathname;

/** Wall time of one run of `cmd args` to exit; throws on a non-zero exit. */
function time(cmd: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let err = '';
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(0, 500)}`))));
  });
}

/** A directory holding a pipeline of `n` stages, each `echo stage-i`. */
function pipelineDir(root: string, n: number): string {
  const dir = join(root, `p${n}`);
  mkdirSync(dir);
  const stages = Array.from({ length: n }, (_, i) => `  stage-${i + 1}:\n    image: alpine:3\n    commands: ["echo stage-${i + 1}"]\n`).join('');
  writeFileSync(join(dir, '.estafette.yaml'), `stages:\n${stages}`);
  return dir;
}

/** Runs the benchmark; 8 interleaved rounds after one warm-up, 15 with `full`. */
export async function run({ full }: { full: boolean }): Promise<void> {
  const runs = full ? 15 : 8;
  await withCleanup(async (defer) => {
    const root = mkdtempSync(join(tmpdir(), 'bench-builder-'));
    defer(() => rmSync(root, { recursive: true, force: true }));
    const p20 = pipelineDir(root, STAGES);
    const p1 = pipelineDir(root, 1);
    const script = join(root, 'script.sh');
    writeFileSync(script, Array.from({ length: STAGES }, (_, i) => `echo stage-${i + 1}`).join('\n') + '\n');
    const perCommand = join(root, 'per-command.sh');
    writeFileSync(perCommand, Array.from({ length: STAGES }, (_, i) => `sh -c 'echo stage-${i + 1}'`).join('\n') + '\n');

    const cases: Array<[string, string, string[], string]> = [
      [`shell script, ${STAGES} commands (baseline)`, 'sh', [script], root],
      [`shell script, ${STAGES} × sh -c`, 'sh', [perCommand], root],
      [`estafette run, 1 stage`, process.execPath, [CLI, 'run', p1], p1],
      [`estafette run, ${STAGES} stages`, process.execPath, [CLI, 'run', p20], p20],
    ];
    // Interleaved rounds (each case once per round) so a slow moment of the shared machine hits
    // every case alike instead of skewing one of them.
    const samples = new Map<string, number[]>(cases.map(([n]) => [n, []]));
    for (const [, cmd, args, cwd] of cases) await time(cmd, args, cwd); // warm-up
    for (let i = 0; i < runs; i++) for (const [name, cmd, args, cwd] of cases) samples.get(name)!.push(await time(cmd, args, cwd));
    const medians = new Map<string, number>();
    const rows: Array<Array<string | number>> = [];
    for (const [name] of cases) {
      const xs = samples.get(name)!;
      medians.set(name, median(xs));
      rows.push([name, ms(median(xs)), ms(Math.min(...xs)), ms(Math.max(...xs))]);
    }
    const [base, perSh, one, twenty] = cases.map(([n]) => medians.get(n)!);
    const slope = (twenty! - one!) / (STAGES - 1);
    const naive = (twenty! - base!) / STAGES;
    const shellPerStage = (perSh! - base!) / STAGES;
    const tbl = table(['what', 'median ms', 'min ms', 'max ms'], rows);
    console.log(tbl);
    console.log(`per stage: ${ms(slope)} ms (slope), ${ms(naive)} ms (naive)`);
    let body = `${runs} interleaved rounds after a warm-up; \`node bin/estafette.js run DIR\` with the host executor, stages \`echo stage-i\`.\n\n${tbl}\n\n`;
    body += `- Overhead per stage (slope 1 → ${STAGES} stages): **${ms(slope)} ms** (goal < 30 ms): **${slope < 30 ? 'met' : 'missed'}**; of that, starting a shell per stage costs ${ms(shellPerStage)} ms.\n`;
    body += `- Naive ((${STAGES}-stage run − script) / ${STAGES}), which spreads the CLI's start over the stages: ${ms(naive)} ms.\n`;
    body += `- One-off start of \`estafette run\` (1-stage run − one shell): ${ms(one! - base! / STAGES)} ms.\n`;

    // Where a run's time goes (always: the one-off start dominates and is worth showing).
    const dir = mkdtempSync(join(tmpdir(), 'bench-prof-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    await time(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, CLI, 'run', p20], p20);
    try {
      const p = summariseProfileDir(dir, 10);
      body += `\nProfile of one ${STAGES}-stage run (\`node --cpu-prof\`, self time of its busiest thread, busy ${p.busyPercent.toFixed(0)}%):\n\n`;
      body += profileMarkdown(p);
    } catch (err) {
      body += `\n(profile not written: ${(err as Error).message})\n`;
    }
    writeSection('builder-overhead', section('Builder overhead', body));
  });
}
