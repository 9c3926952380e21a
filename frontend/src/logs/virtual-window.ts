/**
 * Which rows of a fixed-row-height list are on screen: the arithmetic behind the log view's
 * virtual scrolling, kept pure so it is tested on its own.
 */

/** The half-open range [start, end) of rows to render for a viewport, with `overscan` extra rows on each side. */
export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, count: number, overscan = 20): { start: number; end: number } {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(count, first - overscan));
  const end = Math.max(start, Math.min(count, first + visible + overscan));
  return { start, end };
}

/** True when a scroll position is at (or within `slack` px of) the bottom: follow mode stays on. */
export const atBottom = (scrollTop: number, viewportHeight: number, scrollHeight: number, slack = 4): boolean => scrollTop + viewportHeight >= scrollHeight - slack;
