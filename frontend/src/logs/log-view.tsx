/**
 * The log of one stage run as a virtual list: fixed line height, only the visible lines (plus
 * a margin) in the DOM, each absolutely positioned — so 100,000 lines scroll as smoothly as 100.
 * Lines are numbered across the whole job (seq + 1), so `#L<n>` names one line of the build;
 * the numbers are links but not Tab stops (the log itself is one). Optional timestamps, search
 * matches marked, and three highlighted lines: the linked one, the current match, the error.
 * While `live`, the view follows new lines until the user scrolls up, and offers a button to
 * jump back to the end; `scrollTo` centres a line once it has arrived.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { LogLine } from '../api/types.ts';
import { lineHtml } from './ansi.ts';
import { markMatches } from './highlight.ts';
import { insertionPoint } from './log-store.ts';
import { formatLineTime, type TimestampMode } from './timestamps.ts';
import { atBottom, visibleRange } from './virtual-window.ts';

/** Pixel height of one log line; the CSS uses the same value. */
export const LINE_HEIGHT = 20;

export interface LogViewProps {
  lines: readonly LogLine[];
  /** Changes whenever `lines` grew (the array itself is appended in place). */
  version: number;
  live: boolean;
  /** The line linked from the URL (`#L<seq+1>`). */
  targetSeq?: number;
  /** The current search match. */
  matchSeq?: number;
  /** Where the stage failed. */
  errorSeq?: number;
  /** Centre this line once it is there; a new `nonce` scrolls again. */
  scrollTo?: { seq: number; nonce: number };
  /** Text to mark in the visible lines. */
  highlight?: string;
  timestamps?: TimestampMode;
  /** Start of the stage, for relative timestamps. */
  stageStartMs?: number;
  label: string;
}

/** The line number shown for (and linked as `#L<n>` to) a seq. */
export const lineNumber = (seq: number): number => seq + 1;

/** A scrollable, virtualised log. */
export function LogView({ lines, version, live, targetSeq, matchSeq, errorSeq, scrollTo, highlight, timestamps = 'off', stageStartMs, label }: LogViewProps) {
  const box = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState({ top: 0, height: 600 });
  const [follow, setFollow] = useState(live);
  const count = lines.length;

  useEffect(() => setFollow(live), [live]);

  // Track the viewport size (phones rotate, panels resize).
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setViewport({ top: el.scrollTop, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Follow: keep the newest line in view as lines arrive.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && follow) {
      el.scrollTop = el.scrollHeight;
      setViewport({ top: el.scrollTop, height: el.clientHeight });
    }
  }, [version, follow, count]);

  // Centre a line once it has arrived (lines load in pages), once per request.
  const scrolled = useRef<number | undefined>(undefined);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !scrollTo || scrolled.current === scrollTo.nonce) return;
    const i = insertionPoint(lines, scrollTo.seq);
    if (lines[i]?.seq !== scrollTo.seq) return;
    scrolled.current = scrollTo.nonce;
    setFollow(false);
    el.scrollTop = Math.max(0, i * LINE_HEIGHT - el.clientHeight / 2 + LINE_HEIGHT / 2);
    setViewport({ top: el.scrollTop, height: el.clientHeight });
  }, [scrollTo?.nonce, scrollTo?.seq, version, count]);

  const onScroll = () => {
    const el = box.current!;
    setViewport({ top: el.scrollTop, height: el.clientHeight });
    if (!live) return;
    // Scrolling up stops following; scrolling back to the end resumes it.
    const bottom = atBottom(el.scrollTop, el.clientHeight, el.scrollHeight, LINE_HEIGHT);
    if (bottom !== follow) setFollow(bottom);
  };

  const { start, end } = visibleRange(viewport.top, viewport.height, LINE_HEIGHT, count);
  const digits = String(lineNumber(lines[count - 1]?.seq ?? 0)).length;
  const rows = [];
  for (let i = start; i < end; i++) {
    const line = lines[i]!;
    const n = lineNumber(line.seq);
    const cls = `log-line${line.stream === 'stderr' ? ' stderr' : ''}${line.seq === targetSeq ? ' target' : ''}${line.seq === matchSeq ? ' match' : ''}${line.seq === errorSeq ? ' error-line' : ''}`;
    const html = highlight ? markMatches(lineHtml(line), highlight) : lineHtml(line);
    rows.push(
      <div key={line.seq} class={cls} style={{ top: `${i * LINE_HEIGHT}px` }} data-seq={line.seq} data-line={n}>
        <a class="ln" href={`#L${n}`} id={`L${n}`} tabIndex={-1} aria-label={`line ${n}`} style={{ width: `${digits + 2}ch` }}>
          {n}
        </a>
        {timestamps !== 'off' ? (
          <time class="ts" dateTime={line.time}>
            {formatLineTime(line.time, timestamps, stageStartMs)}
          </time>
        ) : null}
        <span class="lt" dangerouslySetInnerHTML={{ __html: html }} />
      </div>,
    );
  }

  return (
    <div class="log-wrap">
      <div ref={box} class="log" role="log" aria-label={label} aria-live={live && follow ? 'polite' : 'off'} tabIndex={0} onScroll={onScroll} data-lines={count} data-follow={follow ? 'true' : 'false'}>
        <div class="log-inner" style={{ height: `${count * LINE_HEIGHT}px` }}>
          {rows}
        </div>
        {count === 0 ? <p class="log-empty">{live ? 'Waiting for output…' : 'This stage wrote no output.'}</p> : null}
      </div>
      {live && !follow ? (
        <button
          type="button"
          class="follow-button"
          onClick={() => {
            setFollow(true);
            const el = box.current;
            if (el) el.scrollTop = el.scrollHeight;
          }}
        >
          ↓ Follow new lines
        </button>
      ) : null}
    </div>
  );
}
