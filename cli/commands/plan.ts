/**
 * `estafette plan [DIR|FILE] [--branch B] [--revision R] [--counter N] [--event E] [--release NAME
 * [--action A] | --bot NAME] [--json]`: prints the plan a build (or a release or bot run) of a
 * manifest would run — every stage with the injected ones marked, parallel groups, services with
 * their readiness, images, shell, workDir, commands, the resolved env (secrets as `***`), each
 * `when` and whether it runs after success and after a failure, retries, the version and labels,
 * release targets and actions, triggers — compiled by the dispatcher's own functions
 * (shared/manifest/preview.ts). The JSON is documented in docs/plan.md.
 * Exit 0 with a plan, 1 when the manifest is invalid, 2 on a usage error or an unreadable file.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ValidationError } from '../../shared/errors/http-error.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import { PREVIEW_EVENTS, previewPlan, type PlanPreview, type PreviewRequest, type ServicePreview, type StagePreview, type WouldRun } from '../../shared/manifest/preview.ts';
import { choice, integer, parseCommandArgs, UsageError } from '../args.ts';
import { git, repoOf } from '../local-repo.ts';
import { readManifestFile, UnreadableError } from '../manifest-file.ts';
import { problemJson, problemLine, type ProblemJson } from './validate.ts';

export const summary = 'print the plan a build of a .estafette.yaml would run, as the server compiles it';
export const usage = 'estafette plan [DIR|FILE] [--branch B] [--revision R] [--counter N] [--event git|pipeline|release|cron|manual|github|bitbucket] [--release NAME [--action A] | --bot NAME] [--json]';
export const details = `Prints what a build of DIR/.estafette.yaml (or FILE; default .) would run, compiled as the
server compiles it (docs/plan.md describes the --json output).

options:
  -b, --branch B     the branch (default: the checked-out one)
  --revision R       the commit (default: HEAD)
  --counter N        the build counter for the version (default 1)
  --event E          what triggered it: git (default), pipeline, release, cron, manual, or a github/bitbucket event (bots)
  --release NAME     a release to target NAME instead of a build (--action A for its action)
  --bot NAME         a bot run instead of a build
  --json             the plan as JSON

exit codes: 0 a plan, 1 an invalid manifest, 2 wrong usage or an unreadable file`;

/** `--json` output: the plan when the manifest is valid, the problems always. */
export interface PlanJson {
  valid: boolean;
  errors: ProblemJson[];
  warnings: ProblemJson[];
  plan?: PlanPreview;
}

interface PlanArgs {
  path: string;
  json: boolean;
  branch?: string;
  revision?: string;
  counter: number;
  event: PreviewRequest['event'];
  release?: string;
  action?: string;
  bot?: string;
}

/** The arguments, by the shared idiom (cli/args.ts: its UsageError is answered by cli/main.ts). */
function parsePlanArgs(args: string[]): PlanArgs {
  const parsed = parseCommandArgs(args, {
    options: {
      json: { type: 'boolean' },
      branch: { type: 'string', short: 'b' },
      revision: { type: 'string' },
      counter: { type: 'string' },
      event: { type: 'string' },
      release: { type: 'string' },
      action: { type: 'string' },
      bot: { type: 'string' },
    },
    positionals: { names: ['DIR|FILE'] },
  });
  const v = parsed.values;
  for (const k of ['branch', 'revision', 'release', 'action', 'bot'] as const) {
    if (v[k] === '') throw new UsageError(`--${k} needs a value`);
  }
  const counter = v.counter === undefined ? 1 : integer('counter', v.counter, 0, Number.MAX_SAFE_INTEGER);
  const event = choice('event', v.event ?? 'git', PREVIEW_EVENTS);
  if (v.release && v.bot) throw new UsageError('--release and --bot cannot be combined');
  if (v.action && !v.release) throw new UsageError('--action needs --release');
  return {
    path: parsed.positionals[0] ?? '.',
    json: v.json === true,
    counter,
    event,
    ...(v.branch ? { branch: v.branch } : {}),
    ...(v.revision ? { revision: v.revision } : {}),
    ...(v.release ? { release: v.release } : {}),
    ...(v.action ? { action: v.action } : {}),
    ...(v.bot ? { bot: v.bot } : {}),
  };
}

/** The manifest file and the repository directory of a DIR or FILE argument. */
function locate(path: string): { file: string; dir: string } {
  const full = resolve(path);
  if (existsSync(full) && statSync(full).isDirectory()) return { file: join(full, '.estafette.yaml'), dir: full };
  return { file: full, dir: dirname(full) };
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');
const runs = (w: WouldRun) => (w.error ? `fails: ${w.error}` : `runs after success: ${yesNo(w.succeeded)}, after a failure: ${yesNo(w.failed)}`);

/**
 * The env entries a stage adds to the run-wide ESTAFETTE_* ones, for a terminal: the custom
 * properties as one JSON/YAML text are left to --json, multi-line values cut to their first line.
 */
function ownEnv(env: Record<string, string>, base: Record<string, string>): string[] {
  return Object.entries(env)
    .filter(([k, v]) => base[k] !== v && k !== 'ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES' && k !== 'ESTAFETTE_EXTENSION_CUSTOM_PROPERTIES_YAML')
    .map(([k, v]) => {
      const lines = v.split('\n');
      return `${k}=${lines.length > 1 ? `${lines[0]} …(${lines.length} lines)` : v}`;
    });
}

function serviceText(s: ServicePreview, base: Record<string, string>, pad: string): string {
  const lines = [`${pad}service ${s.name}  ${s.image}${s.multiStage ? '  (until the last stage)' : ''}`];
  if (s.readiness) {
    const r = s.readiness;
    lines.push(`${pad}  ready when ${r.kind === 'http' ? `${r.scheme}://${r.host}:${r.port}${r.path} answers` : `'${r.command.join(' ')}' succeeds`} (within ${r.timeoutSeconds}s)`);
  }
  for (const c of s.commands) lines.push(`${pad}  > ${c}`);
  lines.push(`${pad}  when: ${s.when}  (${runs(s.wouldRun)})`);
  for (const e of ownEnv(s.env, base)) lines.push(`${pad}  env ${e}`);
  return lines.join('\n');
}

function stageText(s: StagePreview, base: Record<string, string>, pad: string, n?: number): string {
  const head = `${pad}${n !== undefined ? `${n}. ` : '- '}${s.name}${s.injected ? ' [injected]' : ''}${s.parallel ? ' (parallel)' : ''}`;
  const lines = [s.parallel ? head : `${head}  ${s.image}${s.image ? '' : '(no image)'}`];
  const inner = `${pad}${n !== undefined ? '   ' : '  '}`;
  if (!s.parallel) {
    lines.push(`${inner}shell ${s.shell}, workDir ${s.workDir}${s.retries ? `, retries ${s.retries}` : ''}${s.timeoutSeconds ? `, timeout ${s.timeoutSeconds}s` : ''}`);
    for (const c of s.commands) lines.push(`${inner}> ${c}`);
    if (s.commands.length === 0 && !s.builtin) lines.push(`${inner}(no commands: the image's entrypoint runs)`);
  }
  lines.push(`${inner}when: ${s.when}  (${runs(s.wouldRun)})`);
  if (!s.parallel) for (const e of ownEnv(s.env, base)) lines.push(`${inner}env ${e}`);
  for (const svc of s.services) lines.push(serviceText(svc, base, inner));
  for (const c of s.parallelStages) lines.push(stageText(c, base, inner));
  return lines.join('\n');
}

/** The plan as text for a terminal. */
export function planText(p: PlanPreview): string {
  const what = p.kind === 'build' ? 'build' : p.kind === 'release' ? `release to ${p.name}${p.action ? ` (${p.action})` : ''}` : `bot ${p.name}`;
  const v = p.version;
  const out = [
    `${what} of ${p.repository}@${p.branch} (${p.revision.slice(0, 12)}), counter ${p.counter}, event ${p.event}`,
    `version ${v.version}${v.major ? `  (major ${v.major}, minor ${v.minor}, patch ${v.patch}, label '${v.label}')` : ''}`,
    `builder track ${p.builder.track}, os ${p.builder.os}, type ${p.builder.type}${p.builder.medium ? `, medium ${p.builder.medium}` : ''}`,
  ];
  const labels = Object.entries(p.labels);
  if (labels.length) out.push(`labels ${labels.map(([k, x]) => `${k}=${x}`).join(', ')}`);
  out.push('stages:');
  p.stages.forEach((s, i) => out.push(stageText(s, p.estafetteEnv, '  ', i + 1)));
  out.push(`env of every stage: ${Object.keys(p.estafetteEnv).length} ESTAFETTE_* variables (see --json)`);
  if (p.releaseTargets.length) out.push(`release targets: ${p.releaseTargets.map((r) => (r.actions.length ? `${r.name} (${r.actions.map((a) => a.name).join(', ')})` : r.name)).join(', ')}`);
  if (p.bots.length) out.push(`bots: ${p.bots.join(', ')}`);
  if (p.triggers.length) {
    out.push('triggers:');
    for (const t of p.triggers) {
      const { kind, ...filter } = t.filter;
      const { kind: action, ...how } = t.action;
      const fields = (o: Record<string, unknown>) =>
        Object.entries(o)
          .filter(([, x]) => x !== '' && !(Array.isArray(x) && x.length === 0))
          .map(([k, x]) => `${k} ${Array.isArray(x) ? x.join(',') : String(x)}`)
          .join(', ');
      out.push(`  ${t.field}${t.name ? ` '${t.name}'` : ''}: ${kind} ${fields(filter)} → ${action}${fields(how) ? ` ${fields(how)}` : ''}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** Prints the plan; see the module header for exit codes. */
export async function run(args: string[]): Promise<number> {
  const opts = parsePlanArgs(args);
  const { file, dir } = locate(opts.path);
  let text: string;
  try {
    text = readManifestFile(file);
  } catch (err) {
    if (!(err instanceof UnreadableError)) throw err;
    process.stderr.write(`estafette plan: ${err.message}\n`);
    return 2;
  }
  const { manifest, errors, warnings } = loadManifest(text);
  if (!manifest || errors.length > 0) {
    if (opts.json) {
      const out: PlanJson = { valid: false, errors: errors.map(problemJson), warnings: warnings.map(problemJson) };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    } else {
      process.stdout.write(`errors:\n${errors.map(problemLine).join('')}`);
      process.stderr.write(`estafette plan: ${file} is invalid (${errors.length} error(s)); nothing would run\n`);
    }
    return 1;
  }
  const branch = opts.branch ?? (git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']) || undefined);
  const request: PreviewRequest = {
    ...repoOf(dir),
    branch: branch && branch !== 'HEAD' ? branch : 'main',
    revision: opts.revision ?? git(dir, ['rev-parse', 'HEAD']) ?? '0'.repeat(40),
    counter: opts.counter,
    event: opts.event,
    ...(opts.release ? { kind: 'release' as const, name: opts.release, ...(opts.action ? { action: opts.action } : {}) } : {}),
    ...(opts.bot ? { kind: 'bot' as const, name: opts.bot } : {}),
  };
  let plan: PlanPreview;
  try {
    plan = previewPlan(manifest, request);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    process.stderr.write(`estafette plan: ${err.message}\n`);
    return 2;
  }
  if (opts.json) {
    const out: PlanJson = { valid: true, errors: [], warnings: warnings.map(problemJson), plan };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    if (warnings.length) process.stderr.write(`warnings:\n${warnings.map(problemLine).join('')}`);
    process.stdout.write(planText(plan));
  }
  return 0;
}
