/**
 * Step one of manifest handling: YAML text → the YAML-facing `Manifest` (types.ts). Refuses
 * hostile input before doing real work (size, binary content, alias bombs, deep nesting), reports
 * YAML syntax errors with line and column, duplicate keys with their field path, unknown top-level
 * keys, and values of the wrong type — with a hint for the classic YAML mistakes (an unquoted
 * `: ` or leading `[` in a command, a ` #` that cut a command short, a misspelt key). It also
 * returns a SourceMap, so every problem (lint's too) can name its line and column. Semantic rules
 * (required image, cron syntax, `when`…) are lint's job. Never throws.
 */
import { COLLECTION_STYLE, CORE_SCHEMA, load, mergeTag, parseEvents, getScalarValue, EVENT_ID, SCALAR_STYLE, type Event } from 'js-yaml';
import { SourceMap } from './source-map.ts';
import { didYouMean } from './suggest.ts';
import {
  MANIFEST_KEYS,
  SERVICE_KEYS,
  STAGE_KEYS,
  TRIGGER_ACTIONS,
  TRIGGER_FILTERS,
  type Manifest,
  type ManifestBot,
  type ManifestBuilder,
  type ManifestRelease,
  type ManifestReleaseAction,
  type ManifestReleaseTemplate,
  type ManifestService,
  type ManifestStage,
  type ManifestTrigger,
  type ManifestVersion,
  type Problem,
} from './types.ts';
import { readReleaseSchedulingKeys, readSchedulingKeys, RELEASE_SCHEDULING_KEYS } from './scheduling.ts';

/** Largest manifest accepted, in bytes; real ones are a few kilobytes. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Most `*alias` nodes accepted in one manifest. */
const MAX_ALIASES = 200;
/** Most nodes the document may expand to once aliases are followed (stops alias bombs). */
const MAX_EXPANDED_NODES = 200_000;
/** Deepest nesting of collections accepted. */
const MAX_DEPTH = 40;

// Beyond this, more duplicate-key findings only flood the output.
const MAX_REPORTED_DUPLICATES = 50;

const SCHEMA = CORE_SCHEMA.withTags(mergeTag);

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Joins a field path: `join('stages', 'build')` → `stages.build`; a leading empty path is dropped. */
function joinField(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Walks the YAML event stream once to find what `load` would either reject without a field path
 * (duplicate keys) or accept although it is dangerous (many aliases), and records where each
 * field is written. Returns problems.
 */
function scanEvents(text: string, events: Event[]): { problems: Problem[]; keyOrder: Map<string, string[]>; tooManyAliases: boolean; source: SourceMap } {
  const problems: Problem[] = [];
  // Key order per mapping path: JS objects list integer-like keys first, YAML order is the truth.
  const keyOrder = new Map<string, string[]>();
  type Frame = { kind: 'map' | 'seq' | 'doc' | 'key'; path: string; keys: Set<string>; expectKey: boolean; key: string; index: number };
  const stack: Frame[] = [];
  const source = new SourceMap(text);
  let aliases = 0;
  let duplicates = 0;
  const childPath = (f: Frame): string => (f.kind === 'map' ? joinField(f.path, f.key) : f.kind === 'seq' ? `${f.path}[${f.index}]` : f.path);
  // Called when a complete node (scalar, alias or closed collection) has been seen in frame f.
  const nodeDone = (f: Frame | undefined): void => {
    if (!f) return;
    if (f.kind === 'map') f.expectKey = !f.expectKey;
    else if (f.kind === 'seq') f.index++;
  };
  for (const ev of events) {
    const top = stack[stack.length - 1];
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        stack.push({ kind: 'doc', path: '', keys: new Set(), expectKey: false, key: '', index: 0 });
        break;
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const kind = ev.type === EVENT_ID.MAPPING ? 'map' : 'seq';
        if (top?.kind === 'map' && top.expectKey) {
          // A collection used as a key: keep scanning inside it, it cannot be a duplicate name.
          stack.push({ kind: 'key', path: top.path, keys: new Set(), expectKey: false, key: '', index: 0 });
          top.key = '?';
          stack.push({ kind, path: top.path, keys: new Set(), expectKey: true, key: '', index: 0 });
        } else {
          const path = top ? childPath(top) : '';
          if (top && top.kind !== 'doc') {
            source.setValue(path, { kind: kind === 'map' ? 'mapping' : 'sequence', start: ev.start, plain: false, flow: ev.style === COLLECTION_STYLE.FLOW });
          }
          stack.push({ kind, path, keys: new Set(), expectKey: true, key: '', index: 0 });
        }
        break;
      }
      case EVENT_ID.POP: {
        stack.pop();
        let parent = stack[stack.length - 1];
        if (parent?.kind === 'key') {
          stack.pop();
          parent = stack[stack.length - 1];
        }
        nodeDone(parent);
        break;
      }
      case EVENT_ID.SCALAR:
        if (top?.kind === 'map' && top.expectKey) {
          const key = getScalarValue(text, ev);
          // An empty key (`: x`) has no text, so no offset (-1).
          const at = ev.valueStart >= 0 ? source.position(ev.valueStart) : undefined;
          if (top.keys.has(key) && key !== '<<' && ++duplicates <= MAX_REPORTED_DUPLICATES) {
            const where = at ? ` (line ${at.line}, column ${at.column})` : '';
            problems.push({ field: joinField(top.path, key), message: `duplicate key '${key}'${where}; names must be unique`, severity: 'error', ...at });
          }
          if (ev.valueStart >= 0) source.setKey(joinField(top.path, key), ev.valueStart);
          top.keys.add(key);
          top.key = key;
          const order = keyOrder.get(top.path);
          if (order) order.push(key);
          else keyOrder.set(top.path, [key]);
        } else if (top && top.kind !== 'doc' && top.kind !== 'key' && ev.valueStart >= 0) {
          source.setValue(childPath(top), { kind: 'scalar', start: ev.valueStart, end: ev.valueEnd, plain: ev.style === SCALAR_STYLE.PLAIN, flow: false });
        }
        nodeDone(top);
        break;
      case EVENT_ID.ALIAS:
        aliases++;
        if (top?.kind === 'map' && top.expectKey) top.key = '?';
        else if (top && top.kind !== 'doc' && top.kind !== 'key') source.setValue(childPath(top), { kind: 'alias', start: ev.anchorStart, plain: false, flow: false });
        nodeDone(top);
        break;
    }
  }
  if (duplicates > MAX_REPORTED_DUPLICATES) {
    problems.push({ field: '', message: `${duplicates - MAX_REPORTED_DUPLICATES} more duplicate keys not listed`, severity: 'error' });
  }
  if (aliases > MAX_ALIASES) {
    problems.push({ field: '', message: `the manifest uses ${aliases} YAML aliases; at most ${MAX_ALIASES} are allowed`, severity: 'error' });
  }
  return { problems, keyOrder, tooManyAliases: aliases > MAX_ALIASES, source };
}

/** Counts nodes as if aliases were copied, stopping at the budget; true when within it. */
function withinExpansionBudget(doc: unknown): boolean {
  let budget = MAX_EXPANDED_NODES;
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const v = stack.pop();
    if (--budget < 0) return false;
    if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (isObj(v)) for (const x of Object.values(v)) stack.push(x);
  }
  return true;
}

/** Reads typed values out of loaded YAML, recording a problem per wrong type. */
class Reader {
  readonly problems: Problem[] = [];

  constructor(
    private readonly keyOrder: Map<string, string[]> = new Map(),
    private readonly source?: SourceMap,
  ) {}

  error(field: string, message: string, hint?: string): void {
    this.problems.push({ field, message, severity: 'error', ...(hint ? { hint } : {}) });
  }

  warn(field: string, message: string, hint?: string): void {
    this.problems.push({ field, message, severity: 'warning', ...(hint ? { hint } : {}) });
  }

  /** A mapping (null → empty, as YAML `key:` with nothing after it). */
  obj(v: unknown, field: string): Obj | undefined {
    if (v === undefined || v === null) return {};
    if (isObj(v)) return v;
    this.error(field, `must be a mapping, not ${describe(v)}`);
    return undefined;
  }

  /**
   * The text of a scalar YAML typed as a number or boolean, as written: `version: 1.10` is
   * `1.10`, not `1.1`, as Go reads it into a string.
   */
  private scalarAsText(v: number | boolean, field: string): string {
    const node = this.source?.node(field);
    return node?.kind === 'scalar' && node.plain ? this.source!.scalarText(field)! : String(v);
  }

  str(v: unknown, field: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    // YAML turns `patch: 0` or `releaseBranch: 1.5` into numbers; the user meant the text.
    if (typeof v === 'number' || typeof v === 'boolean') return this.scalarAsText(v, field);
    this.error(field, `must be a string, not ${describe(v)}`, this.quoteHint(field));
    return undefined;
  }

  /** Why YAML read a value meant as text as a mapping or list: the classic unquoted `: ` or `[`. */
  private quoteHint(field: string): string | undefined {
    const node = this.source?.node(field);
    if (!node || (node.kind !== 'mapping' && node.kind !== 'sequence')) return undefined;
    const line = this.source!.restOfLine(node.start).trim();
    if (node.flow) {
      return `YAML reads a value that starts with '${line[0]}' as a ${node.kind === 'sequence' ? 'list' : 'mapping'}; quote the whole value: '${line.replace(/'/g, "''")}'`;
    }
    if (node.kind === 'mapping' && /: /.test(line)) {
      return `YAML reads an unquoted ': ' as a key and its value; quote the whole value: '${line.replace(/'/g, "''")}'`;
    }
    return undefined;
  }

  bool(v: unknown, field: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    // YAML 1.1 spellings, which Estafette's Go parser accepted.
    if (typeof v === 'string' && /^(true|yes|on|y)$/i.test(v)) return true;
    if (typeof v === 'string' && /^(false|no|off|n)$/i.test(v)) return false;
    this.error(field, `must be true or false, not ${describe(v)}`);
    return undefined;
  }

  int(v: unknown, field: string): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v.trim()) && Number.isSafeInteger(Number(v.trim()))) return Number(v.trim());
    if ((typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v.trim()))) {
      this.error(field, `${this.written(v, field)} is too large`);
      return undefined;
    }
    this.error(field, `must be an integer, not ${describe(v)}`);
    return undefined;
  }

  /**
   * An integer of any size as its decimal text when it is beyond a JavaScript number (a semver
   * major or minor: Estafette takes any Go int, and `1e+23` must never be rendered); range
   * checks are lint's.
   */
  bigInt(v: unknown, field: string): number | string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    const text = typeof v === 'string' ? v.trim() : typeof v === 'number' ? this.written(v, field) : undefined;
    if (text !== undefined && /^[-+]?\d+$/.test(text)) {
      const n = BigInt(text);
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
    }
    this.error(field, `must be an integer, not ${describe(v)}`);
    return undefined;
  }

  /** A scalar's text as written in the YAML, else its JavaScript form. */
  private written(v: unknown, field: string): string {
    return this.source?.scalarText(field) ?? String(v);
  }

  /** A list of strings; a single string is accepted as a list of one (as Estafette's StringOrStringArray). */
  strList(v: unknown, field: string, allowSingle = false): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (allowSingle && (typeof v === 'string' || typeof v === 'number')) return [this.str(v, field)!];
    if (!Array.isArray(v)) {
      this.error(field, `must be a list of strings, not ${describe(v)}`);
      return undefined;
    }
    const out: string[] = [];
    v.forEach((x, i) => {
      const s = this.str(x, `${field}[${i}]`);
      if (s !== undefined) out.push(s);
    });
    if (field.endsWith('.commands')) v.forEach((x, i) => typeof x === 'string' && unclosedQuote(x) && this.cutByComment(`${field}[${i}]`));
    return out;
  }

  /**
   * Warns about a command that a ` #` cut short: in an unquoted YAML value, ` #` starts a comment,
   * so `- echo "a #b"` runs `echo "a`. Only flagged when what is left has an unclosed quote —
   * a trailing `# comment` the shell would ignore anyway is fine.
   */
  private cutByComment(field: string): void {
    const node = this.source?.node(field);
    if (node?.kind !== 'scalar' || !node.plain || node.end === undefined) return;
    const rest = this.source!.restOfLine(node.end);
    if (!/^[ \t]+#/.test(rest)) return;
    const value = this.source!.scalarText(field)!;
    const whole = `${value}${rest}`.trim();
    this.warn(field, `the command is cut at ' #': YAML reads the rest of the line as a comment, so only '${value}' runs`, `quote the whole command: '${whole.replace(/'/g, "''")}'`);
  }

  /** A map of scalar values as strings (env, labels). */
  strMap(v: unknown, field: string): Record<string, string> | undefined {
    if (v === undefined || v === null) return undefined;
    const o = this.obj(v, field);
    if (!o) return undefined;
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(o)) {
      if (x === null || x === undefined) out[k] = '';
      else if (typeof x === 'string') out[k] = x;
      else if (typeof x === 'number' || typeof x === 'boolean') out[k] = this.scalarAsText(x, joinField(field, k));
      else this.error(joinField(field, k), `must be a string, not ${describe(x)}`, this.quoteHint(joinField(field, k)));
    }
    return out;
  }

  /** Entries of a map whose keys are names, in order; null values are empty entries. */
  named(v: unknown, field: string): Array<[string, Obj, string]> {
    const o = this.obj(v, field);
    if (!o) return [];
    const out: Array<[string, Obj, string]> = [];
    const order = new Map((this.keyOrder.get(field) ?? []).map((k, i) => [k, i]));
    const rank = (k: string): number => order.get(k) ?? order.size;
    const entries = Object.entries(o).sort(([a], [b]) => rank(a) - rank(b));
    for (const [name, x] of entries) {
      const f = joinField(field, name);
      const entry = this.obj(x, f);
      if (entry) out.push([name, entry, f]);
    }
    return out;
  }

  unknownKeys(o: Obj, known: readonly string[], field: string, what: string): void {
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) this.warn(joinField(field, k), `unknown ${what} key '${k}' is ignored`, didYouMean(k, known));
    }
  }

  builder(v: unknown, field: string): ManifestBuilder | undefined {
    if (v === undefined || v === null) return undefined;
    const o = this.obj(v, field);
    if (!o) return undefined;
    this.unknownKeys(o, ['track', 'os', 'medium', 'type'], field, 'builder');
    return compact({
      track: this.str(o.track, `${field}.track`),
      os: this.str(o.os, `${field}.os`),
      medium: this.str(o.medium, `${field}.medium`),
      type: this.str(o.type, `${field}.type`),
    });
  }

  version(v: unknown, field: string): ManifestVersion {
    const o = this.obj(v, field);
    if (!o) return {};
    this.unknownKeys(o, ['semver', 'custom'], field, 'version');
    const out: ManifestVersion = {};
    if (o.semver !== undefined) {
      const s = this.obj(o.semver, `${field}.semver`);
      if (s) {
        this.unknownKeys(s, ['major', 'minor', 'patch', 'labelTemplate', 'releaseBranch'], `${field}.semver`, 'semver');
        out.semver = compact({
          major: this.bigInt(s.major, `${field}.semver.major`),
          minor: this.bigInt(s.minor, `${field}.semver.minor`),
          patch: this.str(s.patch, `${field}.semver.patch`),
          labelTemplate: this.str(s.labelTemplate, `${field}.semver.labelTemplate`),
          releaseBranch: this.strList(s.releaseBranch, `${field}.semver.releaseBranch`, true),
        });
      }
    }
    if (o.custom !== undefined) {
      const c = this.obj(o.custom, `${field}.custom`);
      if (c) {
        this.unknownKeys(c, ['labelTemplate'], `${field}.custom`, 'custom version');
        out.custom = compact({ labelTemplate: this.str(c.labelTemplate, `${field}.custom.labelTemplate`) });
      }
    }
    return out;
  }

  stages(v: unknown, field: string): ManifestStage[] {
    return this.named(v, field).map(([name, o, f]) => this.stage(name, o, f));
  }

  stage(name: string, o: Obj, f: string): ManifestStage {
    const customProperties: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) if (!(STAGE_KEYS as readonly string[]).includes(k)) customProperties[k] = x;
    const stage: ManifestStage = compact({
      name,
      image: this.str(o.image, `${f}.image`),
      shell: this.str(o.shell, `${f}.shell`),
      workDir: this.str(o.workDir, `${f}.workDir`),
      commands: this.strList(o.commands, `${f}.commands`),
      runCommandsInForeground: this.bool(o.runCommandsInForeground, `${f}.runCommandsInForeground`),
      when: this.str(o.when, `${f}.when`),
      env: this.strMap(o.env, `${f}.env`),
      parallelStages: o.parallelStages === undefined ? undefined : this.stages(o.parallelStages, `${f}.parallelStages`),
      services: o.services === undefined ? undefined : this.services(o.services, `${f}.services`),
      retries: this.int(o.retries, `${f}.retries`),
      timeout: this.str(o.timeout, `${f}.timeout`),
      customProperties,
    });
    return stage;
  }

  /** Services are a list of entries with `name` in Estafette; a map keyed by name is accepted too. */
  services(v: unknown, field: string): ManifestService[] {
    if (v === null) return [];
    if (Array.isArray(v)) {
      const out: ManifestService[] = [];
      v.forEach((x, i) => {
        const f = `${field}[${i}]`;
        const o = this.obj(x, f);
        if (o) out.push(this.service(this.str(o.name, `${f}.name`) ?? '', o, f));
      });
      return out;
    }
    return this.named(v, field).map(([name, o, f]) => this.service(this.str(o.name, `${f}.name`) ?? name, o, f));
  }

  service(name: string, o: Obj, f: string): ManifestService {
    const customProperties: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) if (!(SERVICE_KEYS as readonly string[]).includes(k)) customProperties[k] = x;
    let readiness: ManifestService['readiness'];
    if (o.readiness !== undefined && o.readiness !== null) {
      const r = this.obj(o.readiness, `${f}.readiness`);
      if (r) {
        this.unknownKeys(r, ['path', 'port', 'protocol', 'hostname', 'timeoutSeconds'], `${f}.readiness`, 'readiness');
        readiness = compact({
          path: this.str(r.path, `${f}.readiness.path`),
          port: this.int(r.port, `${f}.readiness.port`),
          protocol: this.str(r.protocol, `${f}.readiness.protocol`),
          hostname: this.str(r.hostname, `${f}.readiness.hostname`),
          timeoutSeconds: this.int(r.timeoutSeconds, `${f}.readiness.timeoutSeconds`),
        });
      }
    }
    let readinessProbe: ManifestService['readinessProbe'];
    if (o.readinessProbe !== undefined && o.readinessProbe !== null) {
      const p = this.obj(o.readinessProbe, `${f}.readinessProbe`);
      if (p) {
        this.unknownKeys(p, ['httpGet', 'exec', 'timeoutSeconds'], `${f}.readinessProbe`, 'readinessProbe');
        const h = p.httpGet === undefined ? undefined : this.obj(p.httpGet, `${f}.readinessProbe.httpGet`);
        const e = p.exec === undefined ? undefined : this.obj(p.exec, `${f}.readinessProbe.exec`);
        readinessProbe = compact({
          httpGet: h
            ? compact({
                path: this.str(h.path, `${f}.readinessProbe.httpGet.path`),
                port: this.int(h.port, `${f}.readinessProbe.httpGet.port`),
                host: this.str(h.host, `${f}.readinessProbe.httpGet.host`),
                scheme: this.str(h.scheme, `${f}.readinessProbe.httpGet.scheme`),
              })
            : undefined,
          exec: e ? compact({ command: this.strList(e.command, `${f}.readinessProbe.exec.command`) }) : undefined,
          timeoutSeconds: this.int(p.timeoutSeconds, `${f}.readinessProbe.timeoutSeconds`),
        });
      }
    }
    return compact({
      name,
      image: this.str(o.image, `${f}.image`),
      shell: this.str(o.shell, `${f}.shell`),
      commands: this.strList(o.commands, `${f}.commands`),
      runCommandsInForeground: this.bool(o.runCommandsInForeground, `${f}.runCommandsInForeground`),
      env: this.strMap(o.env, `${f}.env`),
      when: this.str(o.when, `${f}.when`),
      multiStage: this.bool(o.multiStage, `${f}.multiStage`),
      readiness,
      readinessProbe,
      customProperties,
    });
  }

  triggers(v: unknown, field: string): ManifestTrigger[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.error(field, `must be a list of triggers, not ${describe(v)}`);
      return [];
    }
    const out: ManifestTrigger[] = [];
    v.forEach((x, i) => {
      const f = `${field}[${i}]`;
      const o = this.obj(x, f);
      if (o) out.push(this.trigger(o, f));
    });
    return out;
  }

  trigger(o: Obj, f: string): ManifestTrigger {
    this.unknownKeys(o, ['name', ...TRIGGER_FILTERS, ...TRIGGER_ACTIONS], f, 'trigger');
    const t: ManifestTrigger = {};
    const name = this.str(o.name, `${f}.name`);
    if (name !== undefined) t.name = name;
    const part = (key: string, fields: string[], lists: string[] = []): Record<string, string | string[]> | undefined => {
      if (!(key in o)) return undefined;
      const p = this.obj(o[key], `${f}.${key}`);
      if (!p) return undefined;
      this.unknownKeys(p, [...fields, ...lists], `${f}.${key}`, `${key} trigger`);
      const out: Record<string, string | string[]> = {};
      for (const k of fields) {
        const s = this.str(p[k], `${f}.${key}.${k}`);
        if (s !== undefined) out[k] = s;
      }
      for (const k of lists) {
        const l = this.strList(p[k], `${f}.${key}.${k}`, true);
        if (l !== undefined) out[k] = l;
      }
      return out;
    };
    const assign = <K extends keyof ManifestTrigger>(k: K, v: unknown): void => {
      if (v !== undefined) t[k] = v as ManifestTrigger[K];
    };
    assign('pipeline', part('pipeline', ['event', 'status', 'name', 'branch']));
    assign('release', part('release', ['event', 'status', 'name', 'target']));
    assign('git', part('git', ['event', 'repository', 'branch']));
    assign('cron', part('cron', ['schedule']));
    assign('pubsub', part('pubsub', ['project', 'topic']));
    assign('github', part('github', ['repository'], ['events']));
    assign('bitbucket', part('bitbucket', ['repository'], ['events']));
    assign('docker', part('docker', ['event', 'image', 'tag']));
    assign('builds', part('builds', ['branch']));
    assign('releases', part('releases', ['target', 'action', 'version']));
    assign('runs', part('runs', ['bot', 'branch']));
    return t;
  }

  actions(v: unknown, field: string): ManifestReleaseAction[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) {
      this.error(field, `must be a list of actions, not ${describe(v)}`);
      return undefined;
    }
    const out: ManifestReleaseAction[] = [];
    v.forEach((x, i) => {
      const f = `${field}[${i}]`;
      const o = this.obj(x, f);
      if (!o) return;
      this.unknownKeys(o, ['name', 'hideBadge'], f, 'action');
      out.push(compact({ name: this.str(o.name, `${f}.name`) ?? '', hideBadge: this.bool(o.hideBadge, `${f}.hideBadge`) }));
    });
    return out;
  }

  release(name: string, o: Obj, f: string): ManifestRelease {
    this.unknownKeys(o, ['builder', 'clone', 'actions', 'triggers', 'stages', 'template', ...RELEASE_SCHEDULING_KEYS], f, 'release');
    return compact({
      name,
      builder: this.builder(o.builder, `${f}.builder`),
      clone: this.bool(o.clone, `${f}.clone`),
      actions: this.actions(o.actions, `${f}.actions`),
      triggers: o.triggers === undefined ? undefined : this.triggers(o.triggers, `${f}.triggers`),
      stages: o.stages === undefined ? undefined : this.stages(o.stages, `${f}.stages`),
      template: this.str(o.template, `${f}.template`),
      ...readReleaseSchedulingKeys(this, o, f),
    });
  }

  template(name: string, o: Obj, f: string): ManifestReleaseTemplate {
    this.unknownKeys(o, ['builder', 'clone', 'actions', 'triggers', 'stages'], f, 'release template');
    return compact({
      name,
      builder: this.builder(o.builder, `${f}.builder`),
      clone: this.bool(o.clone, `${f}.clone`),
      actions: this.actions(o.actions, `${f}.actions`),
      triggers: o.triggers === undefined ? undefined : this.triggers(o.triggers, `${f}.triggers`),
      stages: o.stages === undefined ? undefined : this.stages(o.stages, `${f}.stages`),
    });
  }

  bot(name: string, o: Obj, f: string): ManifestBot {
    this.unknownKeys(o, ['builder', 'clone', 'triggers', 'stages'], f, 'bot');
    return compact({
      name,
      builder: this.builder(o.builder, `${f}.builder`),
      clone: this.bool(o.clone, `${f}.clone`),
      triggers: o.triggers === undefined ? undefined : this.triggers(o.triggers, `${f}.triggers`),
      stages: o.stages === undefined ? undefined : this.stages(o.stages, `${f}.stages`),
    });
  }

  manifest(doc: Obj): Manifest {
    for (const k of Object.keys(doc)) {
      if (!(MANIFEST_KEYS as readonly string[]).includes(k)) {
        this.error(k, `unknown top-level key '${k}' (allowed: ${MANIFEST_KEYS.filter((x) => x !== 'pipelines').join(', ')})`, didYouMean(k, MANIFEST_KEYS));
      }
    }
    if (doc.stages !== undefined && doc.pipelines !== undefined) {
      this.error('pipelines', "'pipelines' is the legacy name of 'stages'; use only one of them");
    }
    const stagesKey = doc.stages !== undefined ? 'stages' : 'pipelines';
    const m: Manifest = {
      archived: this.bool(doc.archived, 'archived') ?? false,
      builder: this.builder(doc.builder, 'builder') ?? {},
      labels: this.strMap(doc.labels, 'labels') ?? {},
      version: this.version(doc.version, 'version'),
      env: this.strMap(doc.env, 'env') ?? {},
      triggers: this.triggers(doc.triggers, 'triggers'),
      stages: this.stages(doc[stagesKey], stagesKey),
      releases: this.named(doc.releases, 'releases').map(([n, o, f]) => this.release(n, o, f)),
      releaseTemplates: this.named(doc.releaseTemplates, 'releaseTemplates').map(([n, o, f]) => this.template(n, o, f)),
      bots: this.named(doc.bots, 'bots').map(([n, o, f]) => this.bot(n, o, f)),
      ...readSchedulingKeys(this, doc),
    };
    if (stagesKey === 'pipelines' && doc.pipelines !== undefined) m.stagesKey = 'pipelines';
    return m;
  }
}

/** True when text has an odd number of `"` or of `'`: a shell quote left open. */
function unclosedQuote(text: string): boolean {
  let double = 0;
  let single = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) double++;
    else if (c === 39) single++;
  }
  return double % 2 === 1 || single % 2 === 1;
}

/** Drops undefined fields so objects compare and serialise cleanly. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string '${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
  return `${typeof v} ${String(v)}`;
}

const emptyManifest = (): Manifest => ({
  archived: false,
  builder: {},
  labels: {},
  version: {},
  env: {},
  triggers: [],
  stages: [],
  releases: [],
  releaseTemplates: [],
  bots: [],
});

/** What parseManifest returns; `source` is there whenever the YAML could be walked. */
export interface ParsedManifest {
  manifest?: Manifest;
  problems: Problem[];
  source?: SourceMap;
}

/**
 * Parses `.estafette.yaml` text. `manifest` is absent only when the text cannot be read as YAML
 * at all (too large, binary, syntax error, alias bomb); otherwise it is returned together with the
 * problems found while reading it (wrong types, duplicate or unknown keys). Never throws.
 */
export function parseManifest(text: string): ParsedManifest {
  const fail = (message: string, at?: { line: number; column: number }): ParsedManifest => {
    const hint = at ? syntaxHint(text, at.line) : undefined;
    return { problems: [{ field: '', message, severity: 'error', ...at, ...(hint ? { hint } : {}) }] };
  };
  if (typeof text !== 'string') return fail('manifest must be text');
  // Checked on the string length first so a huge input is refused without scanning it.
  if (text.length > MAX_MANIFEST_BYTES || Buffer.byteLength(text, 'utf8') > MAX_MANIFEST_BYTES) {
    return fail(`manifest is larger than ${MAX_MANIFEST_BYTES / 1024} KiB; refusing to parse it`);
  }
  if (text.includes('\u0000')) return fail('manifest is not a text file (it contains NUL bytes)');
  try {
    let events: Event[];
    try {
      events = parseEvents(text, { maxDepth: MAX_DEPTH });
    } catch (err) {
      return fail(yamlMessage(err), yamlMark(err));
    }
    const documents = events.filter((e) => e.type === EVENT_ID.DOCUMENT).length;
    if (documents === 0) return { manifest: emptyManifest(), problems: [] };
    if (documents > 1) return fail('manifest must be a single YAML document (found a second one after ---)');
    const { problems: scanned, keyOrder, tooManyAliases, source } = scanEvents(text, events);
    if (tooManyAliases) return { problems: scanned };
    let doc: unknown;
    try {
      // json: duplicate keys were reported above with their path; let the last one win here.
      doc = load(text, { schema: SCHEMA, json: true, maxAliases: MAX_ALIASES, maxDepth: MAX_DEPTH, maxTotalMergeKeys: 1000 });
    } catch (err) {
      return fail(yamlMessage(err), yamlMark(err));
    }
    if (!withinExpansionBudget(doc)) {
      return fail(`manifest expands to more than ${MAX_EXPANDED_NODES} values through YAML aliases (an alias bomb?); refusing it`);
    }
    if (doc === null || doc === undefined) return { manifest: emptyManifest(), problems: scanned, source };
    if (!isObj(doc)) return fail(`manifest must be a mapping at the top level, not ${describe(doc)}`);
    const reader = new Reader(keyOrder, source);
    const manifest = reader.manifest(doc);
    return { manifest, problems: [...scanned, ...reader.problems], source };
  } catch (err) {
    // A bug here must still come back as a problem, never as an exception to the caller.
    return fail(`manifest could not be parsed: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** YAML's indicator characters: a plain value cannot start with them. */
const INDICATORS = '[]{}*&!%@`|>';

/**
 * A hint for a syntax error caused by the classic unquoted value: a list item or value that starts
 * with a YAML indicator (`- [ -f x ] && make`, `- *.go`) or holds a `: ` (`- echo a: b: c`), on
 * the line YAML stopped at or the one before.
 */
function syntaxHint(text: string, line: number): string | undefined {
  const lines = text.split('\n');
  for (const n of [line, line - 1]) {
    const l = lines[n - 1];
    if (l === undefined) continue;
    const m = /^\s*(?:-\s+|[^\s:#][^:#]*:\s+)(.*)$/.exec(l);
    const value = m?.[1]?.trim();
    if (!value) continue;
    const quoted = `'${value.replace(/'/g, "''")}'`;
    if (INDICATORS.includes(value[0]!)) return `a value that starts with '${value[0]}' is YAML syntax, not text; quote the whole value: ${quoted}`;
    if (/^\s*-\s/.test(l) && /: /.test(value)) return `YAML reads an unquoted ': ' as a key and its value; quote the whole value: ${quoted}`;
  }
  return undefined;
}

/** Where js-yaml stopped, 1-based, when it says so. */
function yamlMark(err: unknown): { line: number; column: number } | undefined {
  const mark = (err as { name?: string; mark?: { line: number; column: number } })?.mark;
  return typeof mark?.line === 'number' && typeof mark.column === 'number' ? { line: mark.line + 1, column: mark.column + 1 } : undefined;
}

function yamlMessage(err: unknown): string {
  const e = err as { name?: string; reason?: string; mark?: { line: number; column: number }; message?: string };
  if (e?.name === 'YAMLException') {
    const where = e.mark ? ` at line ${e.mark.line + 1}, column ${e.mark.column + 1}` : '';
    const reason = e.reason ?? e.message ?? '';
    // js-yaml reports its safety limits as exceptions too; they are refusals, not typos.
    if (/exceeded/.test(reason)) return `manifest refused${where}: ${reason} (a limit that protects against YAML bombs)`;
    return `YAML syntax error${where}: ${reason}`;
  }
  return `YAML could not be read: ${e?.message ?? String(err)}`;
}
