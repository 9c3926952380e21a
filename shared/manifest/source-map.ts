/**
 * Where each field of a manifest is written in its YAML text, by the same dotted/indexed field
 * paths the parser and linter report (`stages.build.image`, `triggers[0].cron.schedule`). Filled
 * while the parser walks the YAML events once; it turns any problem's field into a line and
 * column (the field itself or, when it is not written — a missing `image` — the nearest enclosing
 * field that is), and gives the raw source of a value for hints and for numbers too large for a
 * JavaScript number.
 */

/** A value node as written. */
export interface SourceNode {
  kind: 'scalar' | 'mapping' | 'sequence' | 'alias';
  /** Offset of the value's first character. */
  start: number;
  /** Offset just past a scalar's text (scalars only). */
  end?: number;
  /** A plain (unquoted, not block) scalar, or a flow (`[…]`, `{…}`) collection. */
  plain: boolean;
  flow: boolean;
}

/** Drops the last segment of a field path: `a.b[2]` → `a.b`, `a.b` → `a`, `a` → ``. */
function parentField(field: string): string {
  if (field.endsWith(']')) {
    const open = field.lastIndexOf('[');
    if (open >= 0) return field.slice(0, open);
  }
  const dot = field.lastIndexOf('.');
  return dot >= 0 ? field.slice(0, dot) : '';
}

/** Field positions of one YAML text. */
export class SourceMap {
  private readonly keys = new Map<string, number>();
  private readonly values = new Map<string, SourceNode>();
  private lineStarts: number[] | undefined;

  constructor(readonly text: string) {}

  /** Records where the key of a mapping entry is written. */
  setKey(field: string, offset: number): void {
    this.keys.set(field, offset);
  }

  /** Records a value node of a field. */
  setValue(field: string, node: SourceNode): void {
    this.values.set(field, node);
  }

  /** The value node written for exactly this field. */
  node(field: string): SourceNode | undefined {
    return this.values.get(field);
  }

  /** The text of a scalar written for exactly this field, as in the source (quotes excluded). */
  scalarText(field: string): string | undefined {
    const n = this.values.get(field);
    return n?.kind === 'scalar' && n.end !== undefined ? this.text.slice(n.start, n.end) : undefined;
  }

  /** The rest of the source line from an offset (without the newline). */
  restOfLine(offset: number): string {
    const nl = this.text.indexOf('\n', offset);
    return this.text.slice(offset, nl < 0 ? this.text.length : nl);
  }

  /** 1-based line and column of an offset. */
  position(offset: number): { line: number; column: number } {
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let i = 0; i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    }
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }

  /**
   * Line and column of a field: its key when it has one (where a reader looks for `image:`),
   * else its value (a list item); for a field that is not written, the nearest written ancestor.
   * Undefined for the manifest as a whole.
   */
  locate(field: string): { line: number; column: number } | undefined {
    for (let f = field; f !== ''; f = parentField(f)) {
      const offset = this.keys.get(f) ?? this.values.get(f)?.start;
      if (offset !== undefined && offset >= 0) return this.position(offset);
    }
    return undefined;
  }
}
