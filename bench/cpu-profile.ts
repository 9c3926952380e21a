/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and summarises where the time went:
 * self time per function and per package, so a missed goal is explained by a profile rather
 * than a guess.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { table } from './report.ts';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/** One row of a summary: what, and its share of the sampled time. */
export interface ProfileRow {
  name: string;
  where: string;
  percent: number;
}

const PROJECT_URL = new URL('../', import.meta.url).href;

/** Where a script URL lives: `node:internal`, `pkg <name>`, or the project-relative path. */
export function ownerOf(url: string): string {
  if (!url) return '(native/V8)';
  if (url.startsWith('node:')) return 'node core';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return `pkg ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  // Relative to this checkout (a checkout may itself sit under a folder named like one of ours).
  if (url.startsWith(PROJECT_URL)) return decodeURIComponent(url.slice(PROJECT_URL.length));
  const m = /\/(shared|functions|builder|cli|bench|test)\/.*$/.exec(url);
  return m ? m[0].slice(1) : url.replace(/^file:\/\//, '');
}

/**
 * Rewrites frames of bundled code (dist/*.mjs with a source map beside) to the file the code came
 * from, so a profile of a bundle is still told apart by package and module.
 */
export function mapToSources(profile: Profile): Profile {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (url: string): SourceMap | null => {
    if (!maps.has(url)) {
      let m: SourceMap | null = null;
      try {
        const file = fileURLToPath(url);
        if (existsSync(`${file}.map`)) m = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
      } catch {
        m = null;
      }
      maps.set(url, m);
    }
    return maps.get(url)!;
  };
  for (const n of profile.nodes) {
    const f = n.callFrame;
    if (!f.url.startsWith('file:') || !f.url.endsWith('.mjs')) continue;
    const map = mapOf(f.url);
    const entry = map?.findEntry(f.lineNumber, f.columnNumber ?? 0) as { originalSource?: string; originalLine?: number } | undefined;
    if (!entry?.originalSource) continue;
    const original = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : resolve(dirname(fileURLToPath(f.url)), entry.originalSource);
    n.callFrame = { ...f, url: `file://${original}`, lineNumber: entry.originalLine ?? f.lineNumber };
  }
  return profile;
}

/** What a summary holds: top functions by self time, self time by owner, and time with each owner on the stack. */
export interface ProfileSummary {
  functions: ProfileRow[];
  owners: ProfileRow[];
  /** Share of busy (non-idle) samples with a frame of the owner anywhere on the stack. */
  onStack: ProfileRow[];
}

const ownerKey = (url: string): string =>
  ownerOf(url)
    .replace(/:.*/, '')
    .replace(/^(shared|functions)\/([^/]+)\/.*/, '$1/$2');

/** Top `top` functions by self time, self time by owner (package/module), and inclusive time by owner. */
export function summariseProfile(profile: Profile, top = 12): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas![i] ?? 0)));
  } else {
    for (const n of profile.nodes) self.set(n.id, n.hitCount ?? 0);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const fns = new Map<string, ProfileRow>();
  const owners = new Map<string, ProfileRow>();
  for (const [id, t] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const f = n.callFrame;
    const name = f.functionName || (f.url ? '(anonymous)' : f.functionName || '(program)');
    const where = f.url ? `${ownerOf(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const row = fns.get(key) ?? { name, where, percent: 0 };
    row.percent += (100 * t) / total;
    fns.set(key, row);
    const owner = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : ownerKey(f.url);
    const o = owners.get(owner) ?? { name: owner, where: '', percent: 0 };
    o.percent += (100 * t) / total;
    owners.set(owner, o);
  }
  // Inclusive: walk each sampled node's stack once, crediting every owner (packages and project
  // modules; node core and V8 are on nearly every stack and say nothing) found on it.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOwners = new Map<number, Set<string>>();
  const ownersOf = (id: number): Set<string> => {
    let set = stackOwners.get(id);
    if (set) return set;
    const n = byId.get(id);
    const up = parent.has(id) ? ownersOf(parent.get(id)!) : new Set<string>();
    set = new Set(up);
    if (n?.callFrame.url && !n.callFrame.url.startsWith('node:')) set.add(ownerKey(n.callFrame.url));
    stackOwners.set(id, set);
    return set;
  };
  const onStack = new Map<string, number>();
  let busyTotal = 0;
  for (const [id, t] of self) {
    const name = byId.get(id)?.callFrame.functionName;
    if (name === '(idle)') continue;
    busyTotal += t;
    for (const o of ownersOf(id)) onStack.set(o, (onStack.get(o) ?? 0) + t);
  }
  const sort = (rows: Iterable<ProfileRow>) => [...rows].sort((a, b) => b.percent - a.percent).slice(0, top);
  return {
    functions: sort(fns.values()),
    owners: sort(owners.values()),
    onStack: sort([...onStack].map(([name, t]) => ({ name, where: '', percent: (100 * t) / (busyTotal || 1) }))),
  };
}

/** Share of a summary's time that is not idle. */
const busy = (s: { owners: ProfileRow[] }) => 100 - (s.owners.find((o) => o.name === '(idle)')?.percent ?? 0);

/**
 * Summary of the busiest `.cpuprofile` in `dir`: node writes one per thread, and under tsx the
 * module loader's thread has its own, mostly idle once the modules are loaded.
 */
export function summariseProfileDir(dir: string, top = 12): ProfileSummary & { file: string; busyPercent: number } {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (!files.length) throw new Error(`no .cpuprofile written in ${dir}`);
  const all = files.map((f) => ({ file: join(dir, f), ...summariseProfile(mapToSources(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Profile), 1000) }));
  const best = all.sort((a, b) => busy(b) - busy(a))[0]!;
  return { functions: best.functions.slice(0, top), owners: best.owners.slice(0, top), onStack: best.onStack.slice(0, top), file: best.file, busyPercent: busy(best) };
}

/** The markdown of a profile summary: on-stack share by owner, self time by owner, top functions. */
export function profileMarkdown(p: ProfileSummary): string {
  return (
    [
      table(
        ['on the stack (package/module)', '% of busy time'],
        p.onStack.map((o) => [o.name, o.percent.toFixed(1)]),
      ),
      table(
        ['self time (package/module)', '% self'],
        p.owners.map((o) => [o.name, o.percent.toFixed(1)]),
      ),
      table(
        ['function (self time)', 'location', '% self'],
        p.functions.map((f) => [f.name, f.where, f.percent.toFixed(1)]),
      ),
    ].join('\n\n') + '\n'
  );
}
