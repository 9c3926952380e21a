/**
 * Paging of list queries in the shape the API serves (`{items, pagination}`): page numbers are
 * 1-based, sizes default to 20 and are capped at 100, as in Estafette.
 */

/** Which page to read. */
export interface PageRequest {
  page?: number;
  size?: number;
}

/** A page of a list, exactly the API's list envelope. */
export interface Page<T> {
  items: T[];
  pagination: { page: number; size: number; totalPages: number; totalItems: number };
}

/** Page size when none is asked for, and the largest allowed (as Estafette's API). */
const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** Page and size clamped to their bounds, with the row offset. */
export function pageWindow(req: PageRequest = {}): { page: number; size: number; offset: number } {
  const size = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(req.size ?? DEFAULT_PAGE_SIZE)));
  const page = Math.max(1, Math.floor(req.page ?? 1));
  return { page, size, offset: (page - 1) * size };
}

/** The envelope for `items` being page `page` of `totalItems`. */
export function toPage<T>(items: T[], page: number, size: number, totalItems: number): Page<T> {
  return { items, pagination: { page, size, totalPages: Math.ceil(totalItems / size), totalItems } };
}

/** One key of an ORDER BY: a column name taken from a closed list by the caller (never user text). */
export interface SortField {
  column: string;
  descending: boolean;
}

/** `ORDER BY` of `order` followed by `tieBreak` (keeps pages stable), or `fallback` without an order. */
export function orderBy(order: SortField[] | undefined, fallback: string, tieBreak = 'id DESC'): string {
  if (!order?.length) return fallback;
  return [...order.map((f) => `${f.column} ${f.descending ? 'DESC' : 'ASC'}`), tieBreak].join(', ');
}

/** A SQL WHERE clause built from optional conditions, with its positional parameters. */
export class Where {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];
  /** Adds `cond`, where `$?` stands for the next parameter (value `v`). */
  add(cond: string, ...values: unknown[]): this {
    let text = cond;
    for (const v of values) {
      this.params.push(v);
      const n = this.params.length;
      text = text.replace('$?', () => `$${n}`);
    }
    this.parts.push(text);
    return this;
  }
  /** The next parameter placeholder for a value added outside a condition (LIMIT, OFFSET). */
  param(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }
  toString(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/** `text` escaped for use inside a LIKE/ILIKE pattern. */
export const likeEscape = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);
