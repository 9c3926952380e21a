/**
 * The log of one stage run as a virtual list: fixed line height, only the visible lines (plus
 * a margin) in the DOM, each absolutely positioned — so 100,000 lines scroll as smoothly as 100.
 * Line numbers link to `#L<seq>`. While `live`, the view follows new lines until the user
 * scrolls up, and offers a button to jump back to the end.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { LogLine } from '../api/types.ts';
import { ansiToHtml } from './ansi.ts';
import { atBottom, visibleRange } from './virtual-window.ts';

/** Pixel height of one log line; the CSS uses the same value. */
export const LINE_HEIGHT = 20;

export interface LogViewProps {
  lines: readonly LogLine[];
  /** Changes whenever `lines` grew (the array itself is appended in place). */
  version: number;
  live: boolean;
  /** The seq to scroll to and highlight (from `#L<seq>`). */
  targetSeq?: number;
  label: string;
}

/** A scrollable, virtualised log. */
export function LogView({ lines, version, live, targetSeq, label }: LogViewProps) {
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
    if (el && follow && targetSeq === undefined) {
      el.scrollTop = el.scrollHeight;
      setViewport({ top: el.scrollTop, height: el.clientHeight });
    }
  }, [version, follow, count]);

  // A line link: scroll it to the middle once it has arrived (lines load in pages), once per target.
  const scrolledTo = useRef<number | undefined>(undefined);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || targetSeq === undefined || scrolledTo.current === targetSeq) return;
    const i = lines.findIndex((l) => l.seq === targetSeq);
    if (i < 0) return;
    scrolledTo.current = targetSeq;
    setFollow(false);
    el.scrollTop = Math.max(0, i * LINE_HEIGHT - el.clientHeight / 2);
    setViewport({ top: el.scrollTop, height: el.clientHeight });
  }, [targetSeq, version, count]);

  const onScroll = () => {
    const el = box.current!;
    setViewport({ top: el.scrollTop, height: el.clientHeight });
    if (!live) return;
    // Scrolling up stops following; scrolling back to the end resumes it.
    const bottom = atBottom(el.scrollTop, el.clientHeight, el.scrollHeight, LINE_HEIGHT);
    if (bottom !== follow) setFollow(bottom);
  };

  const { start, end } = visibleRange(viewport.top, viewport.height, LINE_HEIGHT, count);
  const digits = String(count).length;
  const rows = [];
  for (let i = start; i < end; i++) {
    const line = lines[i]!;
    rows.push(
      <div
        key={line.seq}
        class={`log-line${line.stream === 'stderr' ? ' stderr' : ''}${line.seq === targetSeq ? ' target' : ''}`}
        style={{ top: `${i * LINE_HEIGHT}px` }}
        data-seq={line.seq}
      >
        <a class="ln" href={`#L${line.seq}`} id={`L${line.seq}`} aria-label={`line ${i + 1}`} style={{ width: `${digits + 2}ch` }}>
          {i + 1}
        </a>
        <span class="lt" dangerouslySetInnerHTML={{ __html: ansiToHtml(line.text) }} />
      </div>,
    );
  }

  return (
    <div class="log-wrap">
      <div
        ref={box}
        class="log"
        role="log"
        aria-label={label}
        aria-live={live && follow ? 'polite' : 'off'}
        tabIndex={0}
        onScroll={onScroll}
        data-lines={count}
        data-follow={follow ? 'true' : 'false'}
      >
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
