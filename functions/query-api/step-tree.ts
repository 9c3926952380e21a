/**
 * A job's log as Estafette serves it (estafette-ci-contracts build_log.go): a tree of steps —
 * `{step, depth, image, runIndex, duration, logLines, exitCode, status, autoInjected,
 * nestedSteps, services}` — with each step's lines as `{line, timestamp, streamType, text}`
 * (`line` 1-based within the step), durations in nanoseconds and statuses in capitals
 * (`SUCCEEDED`, `FAILED`, …). Made from the stage list (planned-stages.ts), the plan's images and
 * the stored lines; and, for `logs.stream`, each line as Estafette's `TailLogLine`. Our stage paths
 * (`parent/child`, `stage/service`) become a top step with `nestedSteps` or `services` (depth 1).
 */
import type { LogLine, StatusReport } from '../../shared/logs/protocol.ts';
import type { Plan, PlanStage } from '../../shared/plan/types.ts';
import type { ApiStage } from './planned-stages.ts';

/** Estafette's LogStatus of a stage status. */
export const logStatus = (status: string): string => (status ? status.toUpperCase() : 'UNKNOWN');

/** A log line as Estafette's BuildLogLine. */
export interface EstafetteLogLine {
  line: number;
  timestamp: string;
  streamType: string;
  text: string;
}

/** A step of Estafette's log (BuildLogStep). */
export interface LogStep {
  step: string;
  depth?: number;
  image: { name: string; tag: string; isPulled: boolean; imageSize: number; pullDuration: number } | null;
  runIndex?: number;
  duration: number;
  logLines: EstafetteLogLine[];
  exitCode: number;
  status: string;
  autoInjected?: boolean;
  nestedSteps?: LogStep[];
  services?: LogStep[];
}

/** `name:tag` as Estafette's image object (tag `latest` when none); null for stages without an image. */
export function imageOf(ref: string | undefined): LogStep['image'] {
  if (!ref) return null;
  const at = ref.lastIndexOf(':');
  const slash = ref.lastIndexOf('/');
  const [name, tag] = at > slash ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, 'latest'];
  return { name, tag, isPulled: false, imageSize: 0, pullDuration: 0 };
}

/** Every stage path of a plan with its image and whether the system added it. */
export function planImages(plan: Plan | null): Map<string, { image: string; injected: boolean }> {
  const out = new Map<string, { image: string; injected: boolean }>();
  const visit = (s: PlanStage, parent: string | null) => {
    const path = parent ? `${parent}/${s.name}` : s.name;
    out.set(path, { image: s.image, injected: !!(s.injected || s.builtin) });
    for (const svc of s.services) out.set(`${path}/${svc.name}`, { image: svc.image, injected: false });
    for (const c of s.parallelStages) visit(c, path);
  };
  for (const s of plan?.stages ?? []) visit(s, null);
  return out;
}

const key = (stage: string, run: number) => `${stage}\u0000${run}`;
const lastSegment = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/** The exit code a stage report names ("exit code 2"), else 1 for a failed stage and 0 otherwise. */
const exitCodeOf = (s: Pick<ApiStage, 'status' | 'message'>): number => {
  const m = /exit code (\d+)/i.exec(s.message ?? '');
  return m ? Number(m[1]) : s.status === 'failed' ? 1 : 0;
};

/** The step tree of a job from its stage list, plan and every stored line (seq order). */
export function stepTree(stages: readonly ApiStage[], plan: Plan | null, lines: readonly LogLine[]): LogStep[] {
  const images = planImages(plan);
  const linesOf = new Map<string, EstafetteLogLine[]>();
  for (const l of lines) {
    const k = key(l.stage, l.run);
    const list = linesOf.get(k) ?? [];
    list.push({ line: list.length + 1, timestamp: l.time, streamType: l.stream, text: l.text });
    linesOf.set(k, list);
  }
  const step = (s: ApiStage, depth: number): LogStep => {
    const planned = images.get(s.stage);
    return {
      step: depth ? lastSegment(s.stage) : s.stage,
      ...(depth ? { depth } : {}),
      image: s.kind === 'builtin' ? null : imageOf(planned?.image),
      ...(s.run > 1 ? { runIndex: s.run - 1 } : {}),
      duration: Math.round((s.durationMs ?? 0) * 1e6),
      logLines: linesOf.get(key(s.stage, s.run)) ?? [],
      exitCode: exitCodeOf(s),
      status: logStatus(s.status),
      ...(s.kind === 'builtin' || planned?.injected ? { autoInjected: true } : {}),
    };
  };
  const top: LogStep[] = [];
  const byPath = new Map<string, LogStep>();
  const known = new Set(stages.map((s) => key(s.stage, s.run)));
  for (const s of stages) {
    const parent = s.parent ? byPath.get(s.parent) : undefined;
    if (!s.parent || !parent) {
      const t = step(s, 0);
      top.push(t);
      byPath.set(s.stage, t);
      continue;
    }
    const child = step(s, 1);
    if (s.kind === 'service') (parent.services ??= []).push(child);
    else (parent.nestedSteps ??= []).push(child);
  }
  // Lines of steps nobody reported (system steps that only logged) still show, as their own step.
  for (const [k, logLines] of linesOf) {
    if (known.has(k)) continue;
    const [stage, run] = k.split('\u0000') as [string, string];
    top.push({ step: stage, image: null, ...(Number(run) > 1 ? { runIndex: Number(run) - 1 } : {}), duration: 0, logLines, exitCode: 0, status: 'UNKNOWN', autoInjected: true });
  }
  return top;
}

/** How `logs.stream` places a stage path: its step, parent stage, type and depth. */
export type StagePlacement = (stage: string) => { step: string; parentStage?: string; type: 'stage' | 'service'; depth: number };

/** The placement of stage paths by the job's stage list (paths it does not know count as top-level stages). */
export function stagePlacement(stages: readonly Pick<ApiStage, 'stage' | 'parent' | 'kind'>[]): StagePlacement {
  const byPath = new Map(stages.map((s) => [s.stage, s]));
  return (stage) => {
    const s = byPath.get(stage);
    if (!s?.parent) return { step: stage, type: 'stage', depth: 0 };
    return { step: lastSegment(stage), parentStage: s.parent, type: s.kind === 'service' ? 'service' : 'stage', depth: 1 };
  };
}

/** A stage report (or a stage of the list) as Estafette's step status event. */
const statusEvent = (place: StagePlacement, s: { stage: string; run: number; status: string; durationMs?: number | null; message?: string | null }) => {
  const p = place(s.stage);
  return {
    step: p.step,
    ...(p.parentStage ? { parentStage: p.parentStage } : {}),
    type: p.type,
    ...(p.depth ? { depth: p.depth } : {}),
    ...(s.run > 1 ? { runIndex: s.run - 1 } : {}),
    status: logStatus(s.status),
    duration: Math.round((s.durationMs ?? 0) * 1e6),
    exitCode: Number(/exit code (\d+)/i.exec(s.message ?? '')?.[1] ?? (s.status === 'failed' ? 1 : 0)),
  };
};

const FINAL_STAGE = new Set(['succeeded', 'failed', 'skipped', 'canceled']);

/**
 * The step events `logs.stream` adds for Estafette's clients, which apply an event only to the
 * step they are tailing last: before the first line of a nested step whose parent has not been
 * seen, the parent step (`{step, type: 'stage', status: 'RUNNING'}`, so the nested step lands
 * under it); when the lines move on to another top-level step, the final status of the one
 * before (and of its nested steps and services) as the job's stage list had it when the stream
 * started — the replayed part of a log; and after each live stage report, the step's status,
 * duration and exit code (`{step, parentStage?, type, depth?, status, duration, exitCode}`).
 */
export function stageEventsOf(place: StagePlacement, atStart: readonly Pick<ApiStage, 'stage' | 'run' | 'status' | 'durationMs' | 'message'>[] = []) {
  const seen = new Set<string>();
  const finished = atStart.filter((s) => FINAL_STAGE.has(s.status));
  let current: string | undefined;
  const finalOf = (top: string) =>
    finished
      .filter((s) => s.stage === top || s.stage.startsWith(`${top}/`))
      .sort((a, b) => Number(a.stage === top) - Number(b.stage === top))
      .map((s) => statusEvent(place, s));
  return {
    beforeLine: (l: LogLine): unknown[] => {
      const p = place(l.stage);
      const top = p.parentStage ?? p.step;
      const out: unknown[] = [];
      if (current !== undefined && current !== top) out.push(...finalOf(current));
      current = top;
      if (!seen.has(top)) {
        seen.add(top);
        if (p.parentStage) out.push({ step: p.parentStage, type: 'stage', status: 'RUNNING' });
      }
      return out;
    },
    afterStatus: (report: StatusReport): unknown[] => (report.stages ?? []).map((s) => statusEvent(place, s)),
  };
}

/**
 * A line as `logs.stream` sends it: Estafette's TailLogLine (`step`, `parentStage`, `type`,
 * `depth`, `runIndex`, `logLine: {line, timestamp, streamType, text}`) with our LogLine's fields
 * (`seq`, `stage`, `run`, `time`, `stream`, `text`) beside it. `line` is the line's number within
 * its step run, counted by the caller.
 */
export function tailLine(l: LogLine, line: number, place: StagePlacement) {
  const p = place(l.stage);
  return {
    step: p.step,
    ...(p.parentStage ? { parentStage: p.parentStage } : {}),
    type: p.type,
    ...(p.depth ? { depth: p.depth } : {}),
    ...(l.run > 1 ? { runIndex: l.run - 1 } : {}),
    logLine: { line, timestamp: l.time, streamType: l.stream, text: l.text },
    ...l,
  };
}
