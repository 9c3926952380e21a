/**
 * `estafette run [DIR] [--branch B] [--executor host|docker] [--stage NAME]`: runs the pipeline of
 * DIR/.estafette.yaml on this machine with the builder's own code (runBuild), against the working
 * tree (no clone), printing each stage's output under a header and a summary table at the end.
 * Exit code: 0 when the build succeeded, 1 when it failed or was canceled, 2 on a usage or
 * manifest error.
 */
import { parseCliConfig } from '../../shared/config/config.ts';
import { isRefName, refForMessage } from '../../shared/git/ref-name.ts';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createExecutor } from '../../builder/executors/create-executor.ts';
import { runBuild } from '../../builder/run-build.ts';
import { createTerminalReporter } from '../../builder/terminal-reporter.ts';
import { compilePlan } from '../../shared/manifest/compile.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import { buildRun } from '../../shared/manifest/build-run.ts';
import { openPlanSecrets } from '../../shared/secrets/plan-secrets.ts';
import { EXECUTOR_NAMES, type BuilderConfig } from '../../shared/plan/builder-config.ts';
import type { Plan } from '../../shared/plan/types.ts';
import { choice, parseCommandArgs } from '../args.ts';
import { git, repoOf } from '../local-repo.ts';

export const summary = 'run the pipeline of a local .estafette.yaml on this machine';
export const usage = 'estafette run [DIR] [--branch B] [--executor host|docker] [--stage NAME]';
export const details = `Runs DIR/.estafette.yaml (DIR defaults to .) against the working tree, without a server.

options:
  -b, --branch B        the branch the stages see (default: the checked-out one)
  --executor E          host (child processes, default) or docker (each stage in its image)
  --stage NAME          run only this stage

exit codes: 0 succeeded, 1 failed or canceled, 2 wrong usage or an invalid manifest`;

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    options: { branch: { type: 'string', short: 'b' }, executor: { type: 'string' }, stage: { type: 'string' } },
    positionals: { names: ['DIR'] },
  });
  const opts = {
    dir: positionals[0] ?? '.',
    branch: values.branch,
    executor: choice('executor', values.executor ?? 'host', EXECUTOR_NAMES),
    stage: values.stage,
  };
  const dir = resolve(opts.dir);
  if (values.branch !== undefined && !isRefName(values.branch)) {
    process.stderr.write(`estafette run: --branch ${refForMessage(values.branch)} is not a valid git branch name\n`);
    return 2;
  }
  const file = join(dir, '.estafette.yaml');
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    process.stderr.write(`estafette run: ${opts.dir} is not a directory\n`);
    return 2;
  }
  if (!existsSync(file) || !statSync(file).isFile()) {
    process.stderr.write(`estafette run: no .estafette.yaml in ${dir}\n`);
    return 2;
  }
  const loaded = loadManifest(readFileSync(file, 'utf8'));
  for (const w of loaded.warnings) process.stderr.write(`warning: ${w.field}: ${w.message}\n`);
  if (loaded.errors.length > 0 || !loaded.manifest) {
    for (const e of loaded.errors) process.stderr.write(`error: ${e.field}: ${e.message}\n`);
    process.stderr.write(`estafette run: ${file} is not a valid manifest\n`);
    return 2;
  }

  const branch = opts.branch ?? git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']) ?? 'main';
  const revision = git(dir, ['rev-parse', 'HEAD']) ?? '0'.repeat(40);
  let plan: Plan = compilePlan(loaded.manifest, buildRun(loaded.manifest, { ...repoOf(dir), branch, revision, counter: 0, buildId: 'local', ciServerBaseUrl: '' }));
  // The working tree is already here: the injected clone step would only say "skipped".
  plan = { ...plan, stages: plan.stages.filter((s) => !(s.injected && s.builtin)) };
  if (opts.stage) {
    const only = plan.stages.filter((s) => s.name === opts.stage);
    if (only.length === 0) {
      process.stderr.write(`estafette run: no stage '${opts.stage}' (stages: ${plan.stages.map((s) => s.name).join(', ')})\n`);
      return 2;
    }
    plan = { ...plan, stages: only };
  }

  const settings = parseCliConfig();
  const config: BuilderConfig = {
    job: { kind: 'build', id: `local-${Date.now().toString(36)}` },
    plan,
    git: { cloneUrl: dir, branch, revision, clone: false },
    ingest: { url: '', token: '' },
    executor: opts.executor,
    workDir: dir,
    cancelGraceSeconds: 10,
    // This process is the dispatcher here: it opens the secrets, the stages get only their values.
    secrets: openPlanSecrets(plan, settings.secretKey),
  };
  const colour = Boolean(process.stdout.isTTY) && !settings.noColor;
  const reporter = createTerminalReporter({ out: process.stdout, colour });
  process.stdout.write(`${plan.repoSource}/${plan.repoOwner}/${plan.repoName} ${plan.version} on ${branch} (${opts.executor} executor)\n`);

  const cancel = new AbortController();
  const onSignal = (): void => cancel.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const executor = await createExecutor(opts.executor);
    const outcome = await runBuild(config, { executor, reporter, cancel: cancel.signal });
    await reporter.close();
    return outcome.status === 'succeeded' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
