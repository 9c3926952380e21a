/**
 * The stages of a build as a tree: top-level stages in order, with their parallel stages and
 * services nested under the stage that owns them (`parent`). Retried stages keep one node per
 * run. Stage runs that only appear in the logs (built-in steps) get a node too.
 */
import type { Stage } from '../api/types.ts';
import { stageKey } from '../logs/log-store.ts';

/** One node of the stage tree. */
export interface StageNode {
  key: string;
  stage: Stage;
  depth: number;
  children: StageNode[];
}

/** Builds the tree from the API's flat stage list (order kept) and any extra log keys. */
export function buildStageTree(stages: readonly Stage[], logKeys: readonly string[] = []): StageNode[] {
  const roots: StageNode[] = [];
  const byName = new Map<string, StageNode>();
  const nodes: StageNode[] = [];
  const known = new Set<string>();
  for (const s of stages) {
    const node: StageNode = { key: stageKey(s.stage, s.run), stage: s, depth: 0, children: [] };
    known.add(node.key);
    nodes.push(node);
    // The latest run of a name is the one children attach to.
    const prev = byName.get(s.stage);
    if (!prev || prev.stage.run <= s.run) byName.set(s.stage, node);
  }
  for (const key of logKeys) {
    if (known.has(key)) continue;
    const hash = key.lastIndexOf('#');
    const name = key.slice(0, hash);
    const s: Stage = { stage: name, parent: null, kind: 'builtin', run: Number(key.slice(hash + 1)) || 1, status: 'succeeded' };
    const node: StageNode = { key, stage: s, depth: 0, children: [] };
    nodes.push(node);
    if (!byName.has(name)) byName.set(name, node);
  }
  for (const node of nodes) {
    const parent = node.stage.parent ? byName.get(node.stage.parent) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  const setDepth = (list: StageNode[], depth: number) =>
    list.forEach((n) => {
      n.depth = depth;
      setDepth(n.children, depth + 1);
    });
  setDepth(roots, 0);
  return roots;
}

/** The nodes a user can see (children of collapsed nodes hidden), in display order. */
export function visibleNodes(roots: readonly StageNode[], collapsed: ReadonlySet<string>): StageNode[] {
  const out: StageNode[] = [];
  const walk = (list: readonly StageNode[]) =>
    list.forEach((n) => {
      out.push(n);
      if (!collapsed.has(n.key)) walk(n.children);
    });
  walk(roots);
  return out;
}

/** Every node, depth first. */
export const allNodes = (roots: readonly StageNode[]): StageNode[] => visibleNodes(roots, new Set());

/**
 * The node to show first: the running one (preferring one with output), else the failed one
 * with output (a failed parent of parallel stages has none; its failed child does), else the
 * last with output, else the first.
 */
export function defaultSelection(roots: readonly StageNode[], hasLines: (key: string) => boolean): string | undefined {
  const all = allNodes(roots);
  const running = all.filter((n) => n.stage.status === 'running');
  const failed = all.filter((n) => n.stage.status === 'failed');
  const withLines = all.filter((n) => hasLines(n.key));
  return (running.filter((n) => hasLines(n.key)).at(-1) ?? running.at(-1) ?? failed.find((n) => hasLines(n.key)) ?? failed.find((n) => !n.children.length) ?? failed[0] ?? withLines.at(-1) ?? all[0])?.key;
}

/**
 * Merges stage updates (from an SSE status event) into a stage list by stage + run. A new run of
 * a stage (a retry) goes right after that stage's last run; a stage not in the list at the end.
 */
export function mergeStages(current: readonly Stage[], updates: readonly Stage[]): Stage[] {
  const out = [...current];
  for (const u of updates) {
    const i = out.findIndex((s) => s.stage === u.stage && s.run === u.run);
    if (i >= 0) {
      out[i] = { ...out[i]!, ...u };
      continue;
    }
    let last = -1;
    out.forEach((s, j) => {
      if (s.stage === u.stage) last = j;
    });
    if (last >= 0) out.splice(last + 1, 0, u);
    else out.push(u);
  }
  return out;
}

/** Per stage name, its node with the highest run (retries are separate nodes). */
const latestRuns = (nodes: readonly StageNode[]): StageNode[] => {
  const byName = new Map<string, StageNode>();
  for (const n of nodes) if ((byName.get(n.stage.stage)?.stage.run ?? 0) < n.stage.run) byName.set(n.stage.stage, n);
  return nodes.filter((n) => byName.get(n.stage.stage) === n);
};

/**
 * Where a failed run failed: the first stage (in plan order) whose last run failed, and within
 * it — for parallel stages — its first failed child, down to a stage with a log. Undefined when
 * no stage failed.
 */
export function firstFailure(roots: readonly StageNode[]): StageNode | undefined {
  const failed = latestRuns(roots).find((n) => n.stage.status === 'failed');
  if (!failed) return undefined;
  return firstFailure(failed.children.filter((c) => c.stage.kind !== 'service')) ?? failed;
}

/**
 * The stage run a live view follows: the one it follows now while that is still running;
 * otherwise the stage that printed last if it is running, else the last running stage (in
 * plan order, preferring one with output), else the current one. Sticky, so parallel stages
 * printing in turn do not make the view jump between them.
 */
export function followedStage(roots: readonly StageNode[], current: string | undefined, lastPrinted: string | undefined, hasLines: (key: string) => boolean): string | undefined {
  const all = allNodes(roots);
  const running = all.filter((n) => n.stage.status === 'running' && n.stage.kind !== 'parallel' && n.stage.kind !== 'service');
  if (current && running.some((n) => n.key === current)) return current;
  if (lastPrinted && running.some((n) => n.key === lastPrinted)) return lastPrinted;
  return (running.filter((n) => hasLines(n.key)).at(-1) ?? running.at(-1))?.key ?? current;
}
