/**
 * Step two of manifest handling: every rule a parsed Manifest must satisfy, each finding reported
 * with its field path and severity. Errors make the manifest invalid (the build fails with a
 * `validate-manifest` step); warnings are shown but allowed. Never throws.
 */
import { isRefName, refForMessage } from '../git/ref-name.ts';
import { checkWhen } from './when.ts';
import { lintScheduling } from './scheduling.ts';
import { parseDurationSeconds } from './duration.ts';
import { didYouMean } from './suggest.ts';
import { actionKindFor, actionsOf, checkCron, compilePattern, filtersOf, type TriggerScope } from './triggers.ts';
import { MAX_VERSION_NUMBER } from './version.ts';
import {
  BUILDER_MEDIUMS,
  BUILDER_OS,
  BUILDER_TRACKS,
  BUILDER_TYPES,
  SERVICE_KEYS,
  STAGE_KEYS,
  type BuilderOs,
  type Manifest,
  type ManifestBuilder,
  type ManifestReleaseAction,
  type ManifestService,
  type ManifestStage,
  type ManifestTrigger,
  type Problem,
} from './types.ts';

/** Upper bound on stage retries; more is almost certainly a typo and could run for hours. */
const MAX_RETRIES = 20;

/** Estafette's rule for a pipeline or release trigger's status: `finished` takes only these two. */
const FINISHED_STATUSES = ['succeeded', 'failed'] as const;

/** What is wrong with an image reference's tag, or undefined when it is pinned. */
export function imageTagWarning(image: string): string | undefined {
  // Images built from variables (`extensions/gke:${ESTAFETTE_BUILD_VERSION}`) are pinned at run time.
  if (image.includes('${') || image.includes('@sha256:')) return undefined;
  const lastSlash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  const tag = colon > lastSlash ? image.slice(colon + 1) : '';
  if (tag === '') return `image '${image}' has no tag and runs whatever 'latest' is; pin a version`;
  if (tag === 'latest') return `image '${image}' uses the 'latest' tag; pin a version`;
  if (tag === 'dev') return `image '${image}' uses the 'dev' tag, which changes without notice`;
  return undefined;
}

class Linter {
  readonly problems: Problem[] = [];
  private readonly triggerNames = new Map<string, string>();

  constructor(private readonly m: Manifest) {}

  error(field: string, message: string, hint?: string): void {
    this.problems.push({ field, message, severity: 'error', ...(hint ? { hint } : {}) });
  }

  warn(field: string, message: string, hint?: string): void {
    this.problems.push({ field, message, severity: 'warning', ...(hint ? { hint } : {}) });
  }

  run(): void {
    const m = this.m;
    this.builder(m.builder, 'builder');
    this.version();
    this.triggers(m.triggers, 'triggers', { kind: 'build' });
    const stagesKey = m.stagesKey ?? 'stages';
    if (m.stages.length === 0) this.error(stagesKey, 'a manifest needs at least one stage');
    this.stages(m.stages, stagesKey);
    const templates = new Map(m.releaseTemplates.map((t) => [t.name, t]));
    for (const t of m.releaseTemplates) {
      const f = `releaseTemplates.${t.name}`;
      this.builder(t.builder, `${f}.builder`);
      this.actions(t.actions, `${f}.actions`);
      this.triggers(t.triggers, `${f}.triggers`, { kind: 'release', release: t.name }, t.actions);
      this.stages(t.stages ?? [], `${f}.stages`);
    }
    for (const r of m.releases) {
      const f = `releases.${r.name}`;
      const template = r.template === undefined ? undefined : templates.get(r.template);
      if (r.template !== undefined && !template) {
        this.error(`${f}.template`, `release template '${r.template}' is not defined under releaseTemplates`);
      }
      this.builder(r.builder, `${f}.builder`);
      this.actions(r.actions, `${f}.actions`);
      this.triggers(r.triggers, `${f}.triggers`, { kind: 'release', release: r.name }, r.actions ?? template?.actions);
      this.stages(r.stages ?? [], `${f}.stages`);
      if (!r.stages?.length && !template?.stages?.length) {
        this.warn(`${f}.stages`, `release '${r.name}' has no stages; releasing to it does nothing`);
      }
    }
    for (const b of m.bots) {
      const f = `bots.${b.name}`;
      this.builder(b.builder, `${f}.builder`);
      this.triggers(b.triggers, `${f}.triggers`, { kind: 'bot', bot: b.name });
      if (!b.stages?.length) this.error(`${f}.stages`, `bot '${b.name}' needs at least one stage`);
      this.stages(b.stages ?? [], `${f}.stages`);
    }
  }

  /**
   * A builder section on its own, as Estafette validates it: a release's or bot's builder replaces
   * the top one (defaults filled in), so its track is checked against its own os (default linux).
   */
  builder(b: ManifestBuilder | undefined, f: string): void {
    if (!b) return;
    const osValid = b.os === undefined || b.os === '' || (BUILDER_OS as readonly string[]).includes(b.os);
    if (!osValid) this.error(`${f}.os`, `must be one of ${BUILDER_OS.join(', ')}`);
    if (b.type !== undefined && b.type !== '' && !(BUILDER_TYPES as readonly string[]).includes(b.type)) this.error(`${f}.type`, `must be one of ${BUILDER_TYPES.join(', ')}`);
    if (b.medium !== undefined && !(BUILDER_MEDIUMS as readonly string[]).includes(b.medium)) this.error(`${f}.medium`, "must be '' or 'memory'");
    if (b.track !== undefined && b.track !== '' && osValid) {
      const os: BuilderOs = b.os === 'windows' ? 'windows' : 'linux';
      const tracks = BUILDER_TRACKS[os];
      if (!tracks.includes(b.track)) {
        const other = BUILDER_OS.find((o) => o !== os && BUILDER_TRACKS[o].includes(b.track!));
        this.error(`${f}.track`, `must be one of ${tracks.join(', ')} for os ${os}${b.os ? '' : ' (the default os)'}`, other ? `'${b.track}' is a track of os ${other}; set os: ${other} beside it` : undefined);
      } else if (b.track.endsWith('dev')) {
        this.warn(`${f}.track`, `the '${b.track}' builder track changes without notice; use '${tracks[0]}'`);
      }
    }
  }

  version(): void {
    const v = this.m.version;
    if (v.semver && v.custom) this.warn('version', "both 'semver' and 'custom' are set; the custom version is used and semver is ignored, as in Estafette");
    const templates: Array<[string | undefined, string]> = [
      [v.semver?.patch, 'version.semver.patch'],
      [v.semver?.labelTemplate, 'version.semver.labelTemplate'],
      [v.custom?.labelTemplate, 'version.custom.labelTemplate'],
    ];
    for (const [t, f] of templates) {
      if (t === undefined) continue;
      for (const m of t.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
        if (!['auto', 'branch', 'revision'].includes(m[1]!)) this.error(f, `unknown template function '{{${m[1]}}}' (known: {{auto}}, {{branch}}, {{revision}})`);
      }
    }
    // An empty patch or label template means its default, as in Estafette.
    for (const [k, n] of [
      ['major', v.semver?.major],
      ['minor', v.semver?.minor],
    ] as const) {
      if (n === undefined) continue;
      const big = BigInt(n);
      if (big < 0n || big > MAX_VERSION_NUMBER) this.error(`version.semver.${k}`, `must be an integer from 0 to ${MAX_VERSION_NUMBER}, not ${n}`);
    }
    v.semver?.releaseBranch?.forEach((p, i) => this.pattern(p, `version.semver.releaseBranch${v.semver!.releaseBranch!.length > 1 ? `[${i}]` : ''}`));
  }

  pattern(p: string, f: string, caseInsensitive = false): void {
    try {
      compilePattern(p, caseInsensitive);
    } catch (err) {
      this.error(f, `invalid regular expression '${p}': ${(err as Error).message}`);
    }
  }

  when(expr: string | undefined, f: string): void {
    // Empty means the default (status == 'succeeded'), as in Estafette.
    if (expr === undefined || expr.trim() === '') return;
    const problem = checkWhen(expr);
    if (problem) this.error(f, `invalid when expression: ${problem}`);
  }

  stages(stages: ManifestStage[], base: string, parent?: ManifestStage): void {
    for (const s of stages) this.stage(s, `${base}.${s.name}`, parent);
  }

  stage(s: ManifestStage, f: string, parent?: ManifestStage): void {
    if (s.name.trim() === '') this.error(f, 'a stage needs a name');
    if (s.parallelStages !== undefined) {
      if (parent) this.error(`${f}.parallelStages`, 'parallel stages cannot be nested: only one level of parallelStages is allowed');
      for (const k of ['image', 'shell', 'workDir', 'commands', 'env'] as const) {
        if (s[k] !== undefined) this.error(`${f}.${k}`, `cannot be combined with parallelStages; set it on each parallel stage instead`);
      }
      if (s.parallelStages.length === 0) this.error(`${f}.parallelStages`, 'needs at least one stage');
      this.stages(s.parallelStages, `${f}.parallelStages`, s);
    } else if (s.image === undefined || s.image.trim() === '') {
      const servicesOnly = (s.services?.length ?? 0) > 0 && s.commands === undefined;
      const misspelt = Object.keys(s.customProperties).find((k) => didYouMean(k, ['image']));
      if (!servicesOnly) this.error(`${f}.image`, 'is required (only a stage with parallelStages or with only services may leave it out)', misspelt ? `found '${misspelt}': did you mean \`image\`?` : undefined);
    } else {
      const w = imageTagWarning(s.image);
      if (w) this.warn(`${f}.image`, w);
    }
    this.when(s.when, `${f}.when`);
    if (s.retries !== undefined && (s.retries < 0 || s.retries > MAX_RETRIES)) {
      this.error(`${f}.retries`, `must be an integer from 0 to ${MAX_RETRIES}`);
    }
    if (s.timeout !== undefined && parseDurationSeconds(s.timeout) === undefined) {
      this.error(`${f}.timeout`, `'${s.timeout}' is not a duration (e.g. 30s, 10m, 1h30m)`);
    }
    this.misspeltKeys(s.customProperties, STAGE_KEYS, f, s as unknown as Record<string, unknown>);
    if (s.services) this.services(s.services, `${f}.services`);
  }

  /**
   * Custom properties are how extensions are configured, so any key is allowed on a stage or a
   * service; one that is a known key misspelt (`comands`, `workdir`) is surely a mistake, though.
   */
  misspeltKeys(custom: Record<string, unknown>, known: readonly string[], f: string, written: Record<string, unknown>): void {
    for (const k of Object.keys(custom)) {
      const hint = didYouMean(
        k,
        known.filter((x) => written[x] === undefined),
      );
      if (hint) this.warn(`${f}.${k}`, `unknown key '${k}' is not a stage setting; it is passed to the image as a custom property`, hint);
    }
  }

  services(services: ManifestService[], base: string): void {
    const seen = new Set<string>();
    services.forEach((svc, i) => {
      const f = `${base}[${i}]`;
      if (svc.name.trim() === '') this.error(`${f}.name`, 'a service needs a name (it is also its host name)');
      else if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(svc.name)) this.error(`${f}.name`, `'${svc.name}' is not a valid host name`);
      else if (seen.has(svc.name)) this.error(`${f}.name`, `service '${svc.name}' is defined twice in this stage`);
      seen.add(svc.name);
      this.misspeltKeys(svc.customProperties, SERVICE_KEYS, f, svc as unknown as Record<string, unknown>);
      if (svc.image === undefined || svc.image.trim() === '') this.error(`${f}.image`, 'is required');
      else {
        const w = imageTagWarning(svc.image);
        if (w) this.warn(`${f}.image`, w);
      }
      this.when(svc.when, `${f}.when`);
      const port = (p: number | undefined, pf: string): void => {
        if (p !== undefined && (p < 1 || p > 65535)) this.error(pf, 'must be a port from 1 to 65535');
      };
      const timeout = (t: number | undefined, tf: string): void => {
        if (t !== undefined && t <= 0) this.error(tf, 'must be a positive number of seconds');
      };
      const scheme = (v: string | undefined, sf: string): void => {
        if (v !== undefined && v !== 'http' && v !== 'https') this.error(sf, "must be 'http' or 'https'");
      };
      if (svc.readiness) {
        port(svc.readiness.port, `${f}.readiness.port`);
        timeout(svc.readiness.timeoutSeconds, `${f}.readiness.timeoutSeconds`);
        scheme(svc.readiness.protocol, `${f}.readiness.protocol`);
      }
      const probe = svc.readinessProbe;
      if (probe) {
        const pf = `${f}.readinessProbe`;
        if (probe.httpGet && probe.exec) this.error(pf, "use either 'httpGet' or 'exec', not both");
        else if (!probe.httpGet && !probe.exec) this.error(pf, "needs 'httpGet' or 'exec'");
        if (probe.httpGet) {
          port(probe.httpGet.port, `${pf}.httpGet.port`);
          scheme(probe.httpGet.scheme, `${pf}.httpGet.scheme`);
        }
        if (probe.exec && !probe.exec.command?.length) this.error(`${pf}.exec.command`, 'needs at least one word');
        timeout(probe.timeoutSeconds, `${pf}.timeoutSeconds`);
        if (svc.readiness) this.warn(pf, "both 'readiness' and 'readinessProbe' are set; readinessProbe is used");
      }
    });
  }

  /** `status` of a pipeline/release filter: for `finished` (the default event) only succeeded or failed. */
  finishedStatus(event: string | undefined, status: string | undefined, f: string): void {
    const e = event || 'finished';
    if (e === 'finished' && status !== undefined && status !== '' && !(FINISHED_STATUSES as readonly string[]).includes(status)) {
      this.error(`${f}.status`, `must be ${FINISHED_STATUSES.map((x) => `'${x}'`).join(' or ')} for event 'finished', not '${status}'`);
    } else if (e === 'started' && status) {
      this.warn(`${f}.status`, "is ignored for event 'started' (a started build or release has no status yet)");
    }
  }

  actions(actions: ManifestReleaseAction[] | undefined, base: string): void {
    const seen = new Set<string>();
    actions?.forEach((a, i) => {
      if (a.name.trim() === '') this.error(`${base}[${i}].name`, 'an action needs a name');
      else if (seen.has(a.name)) this.error(`${base}[${i}].name`, `action '${a.name}' is defined twice`);
      seen.add(a.name);
    });
  }

  triggers(triggers: ManifestTrigger[] | undefined, base: string, scope: TriggerScope, releaseActions?: ManifestReleaseAction[]): void {
    triggers?.forEach((t, i) => this.trigger(t, `${base}[${i}]`, scope, releaseActions));
  }

  trigger(t: ManifestTrigger, f: string, scope: TriggerScope, releaseActions?: ManifestReleaseAction[]): void {
    if (t.name !== undefined) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(t.name)) this.error(`${f}.name`, `trigger name '${t.name}' may only contain letters, digits, '-' and '_'`);
      const upper = t.name.toUpperCase().replace(/-/g, '_');
      const other = this.triggerNames.get(upper);
      if (other) this.error(`${f}.name`, `trigger name '${t.name}' is already used by ${other}`);
      else this.triggerNames.set(upper, f);
    }
    const filters = filtersOf(t);
    if (filters.length === 0) this.error(f, 'a trigger needs exactly one filter (pipeline, release, git, cron, pubsub, github, bitbucket or docker); found none');
    if (filters.length > 1) this.error(f, `a trigger needs exactly one filter; found ${filters.join(' and ')} (split it into separate triggers)`);
    const actions = actionsOf(t);
    const allowed = actionKindFor(scope);
    if (actions.length > 1) this.error(f, `a trigger has at most one action; found ${actions.join(' and ')}`);
    for (const a of actions) {
      if (a !== allowed) this.error(`${f}.${a}`, `'${a}' is not allowed in ${scope.kind} triggers; use '${allowed}'`);
    }
    const required = (v: string | undefined, rf: string, what: string): void => {
      if (v === undefined || v.trim() === '') this.error(rf, `is required (${what})`);
    };
    const oneOf = (v: string | undefined, values: string[], vf: string): void => {
      if (v !== undefined && v !== '' && !values.includes(v)) this.error(vf, `must be one of ${values.join(', ')}`);
    };
    if (t.pipeline) {
      const p = t.pipeline;
      required(p.name, `${f}.pipeline.name`, "the pipeline to watch, e.g. 'github.com/owner/repo' or 'self'");
      oneOf(p.event, ['started', 'finished'], `${f}.pipeline.event`);
      if (p.name && p.name.trim().toLowerCase() !== 'self') this.pattern(p.name, `${f}.pipeline.name`, true);
      this.finishedStatus(p.event, p.status, `${f}.pipeline`);
      if (p.branch !== undefined) this.pattern(p.branch, `${f}.pipeline.branch`);
      if (scope.kind === 'build' && p.name?.trim().toLowerCase() === 'self' && (p.event ?? 'finished') === 'finished') {
        this.warn(`${f}.pipeline.name`, 'a build trigger on this pipeline itself rebuilds after every build; only the chain-depth limit stops it');
      }
    }
    if (t.release) {
      const r = t.release;
      required(r.name, `${f}.release.name`, "the pipeline whose releases to watch, or 'self'");
      required(r.target, `${f}.release.target`, 'the release target to watch');
      oneOf(r.event, ['started', 'finished'], `${f}.release.event`);
      if (r.name && r.name.trim().toLowerCase() !== 'self') this.pattern(r.name, `${f}.release.name`, true);
      this.finishedStatus(r.event, r.status, `${f}.release`);
      if (r.target) this.pattern(r.target, `${f}.release.target`);
    }
    if (t.git) {
      required(t.git.repository, `${f}.git.repository`, "e.g. 'github.com/owner/repo'");
      oneOf(t.git.event, ['push', 'tag'], `${f}.git.event`);
      if (t.git.repository && t.git.repository.trim().toLowerCase() !== 'self') this.pattern(t.git.repository, `${f}.git.repository`, true);
      if (t.git.branch !== undefined) this.pattern(t.git.branch, `${f}.git.branch`);
    }
    if (t.cron) {
      if (t.cron.schedule === undefined || t.cron.schedule.trim() === '') this.error(`${f}.cron.schedule`, "is required (5-field cron, UTC, e.g. '0 10 * * *')");
      else {
        const problem = checkCron(t.cron.schedule);
        if (problem) this.error(`${f}.cron.schedule`, problem);
      }
    }
    if (t.pubsub) {
      required(t.pubsub.project, `${f}.pubsub.project`, 'the Google Cloud project');
      required(t.pubsub.topic, `${f}.pubsub.topic`, 'the Pub/Sub topic');
    }
    for (const forge of ['github', 'bitbucket'] as const) {
      const g = t[forge];
      if (g && !g.events?.length) this.error(`${f}.${forge}.events`, `needs at least one ${forge} event name`);
    }
    if (t.docker) this.warn(`${f}.docker`, 'docker triggers are accepted for compatibility but never fire');
    if (t.releases && scope.kind === 'release') {
      const action = t.releases.action;
      if (action) {
        const names = (releaseActions ?? []).map((a) => a.name);
        if (!names.includes(action)) {
          this.error(`${f}.releases.action`, names.length ? `action '${action}' is not one of this release's actions (${names.join(', ')})` : `action '${action}' is set but the release defines no actions`);
        }
      }
      // Estafette overwrites the target with the release the trigger is defined under.
      const target = t.releases.target;
      if (target && target !== scope.release) {
        this.warn(`${f}.releases.target`, `'${target}' is ignored: a release trigger always releases to the release it is defined under ('${scope.release}')`);
      }
    }
    // The branch a trigger builds reaches git in the builder: git's ref-name rules.
    for (const [action, branch] of [
      ['builds', t.builds?.branch],
      ['runs', t.runs?.branch],
    ] as const) {
      if (branch && !isRefName(branch)) this.error(`${f}.${action}.branch`, `is not a valid git branch name: ${refForMessage(branch)}`);
    }
    if (t.runs && scope.kind === 'bot' && t.runs.bot && !this.m.bots.some((b) => b.name === t.runs!.bot)) {
      this.error(`${f}.runs.bot`, `bot '${t.runs.bot}' is not defined under bots`);
    }
  }
}

/** Every problem of a parsed manifest, errors and warnings, each with its field path. Never throws. */
export function lintManifest(m: Manifest): Problem[] {
  const linter = new Linter(m);
  try {
    linter.run();
    linter.problems.push(...lintScheduling(m));
  } catch (err) {
    // A linter bug must surface as a finding, not crash the dispatcher or the CLI.
    linter.error('', `manifest could not be checked: ${(err as Error)?.message ?? String(err)}`);
  }
  return linter.problems;
}
