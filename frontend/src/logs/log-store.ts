/**
 * The log lines of one build or release, grouped per stage run and kept in `seq` order with
 * each seq stored once — whether lines come from the stored-logs route, the SSE stream, or
 * both across a reconnect. Mutable on purpose: 100,000 lines are appended without copying;
 * `version` tells the view something changed.
 */
import type { LogLine } from '../api/types.ts';

/** The key of a stage run: `build#1`. */
export const stageKey = (stage: string, run: number | undefined): string => `${stage}#${run ?? 1}`;

/** Lines per stage run, deduplicated by seq. */
export class LogStore {
  private readonly byKey = new Map<string, LogLine[]>();
  private readonly seen = new Set<number>();
  /** Incremented on every change that adds lines. */
  version = 0;
  /** The highest seq held (for resuming), -1 when empty. */
  lastSeq = -1;
  /** The stage-run key of the line with the highest seq: the stage that printed last. */
  lastKey: string | undefined;

  /** Adds lines (any order, duplicates ignored); returns how many were new. */
  add(lines: readonly LogLine[]): number {
    let added = 0;
    for (const line of lines) {
      if (this.seen.has(line.seq)) continue;
      this.seen.add(line.seq);
      const key = stageKey(line.stage, line.run);
      let list = this.byKey.get(key);
      if (!list) this.byKey.set(key, (list = []));
      if (!list.length || list[list.length - 1]!.seq < line.seq) list.push(line);
      else list.splice(insertionPoint(list, line.seq), 0, line);
      if (line.seq > this.lastSeq) {
        this.lastSeq = line.seq;
        this.lastKey = key;
      }
      added++;
    }
    if (added) this.version++;
    return added;
  }

  /** The lines of one stage run, in seq order (the live array: do not mutate). */
  lines(key: string): readonly LogLine[] {
    return this.byKey.get(key) ?? EMPTY;
  }

  /** The stage-run keys that have lines. */
  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** Total number of lines. */
  get size(): number {
    return this.seen.size;
  }

  /** Where the line with `seq` is: its stage-run key and index, or undefined. */
  locate(seq: number): { key: string; index: number } | undefined {
    if (!this.seen.has(seq)) return undefined;
    for (const [key, list] of this.byKey) {
      const i = insertionPoint(list, seq);
      if (list[i]?.seq === seq) return { key, index: i };
    }
    return undefined;
  }
}

const EMPTY: readonly LogLine[] = [];

/** First index of `list` (in seq order) whose seq is >= `seq` (binary search). */
export function insertionPoint(list: readonly LogLine[], seq: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
