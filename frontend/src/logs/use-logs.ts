/**
 * Loads the log of a build or release into a LogStore: the stored lines page by page when it is
 * final, otherwise the live SSE stream (`logs.stream`, which replays stored lines first). Lines
 * from the stream are batched per animation frame so a fast build does not re-render per line.
 * EventSource reconnects by itself with `Last-Event-ID` (Knative cuts long requests); the
 * store's dedup by seq makes any replay harmless.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api/client.ts';
import type { LogLine, Stage } from '../api/types.ts';
import { LogStore } from './log-store.ts';

/** What the SSE `status` event carries. */
export interface StatusEvent {
  status?: string;
  stages?: Stage[];
}

export interface Logs {
  store: LogStore;
  version: number;
  /** True while the live stream is open. */
  streaming: boolean;
  /** True once every stored line has been loaded (or the stream has closed). */
  complete: boolean;
  error: ApiError | undefined;
}

const PAGE = 5000;

/**
 * The log of `base` (`…/builds/:id` or `…/releases/:id`); `live` chooses the stream.
 * `live` undefined (status not known yet) loads nothing. `onStatus` receives status events;
 * `onClose` is called when the stream says the run ended.
 */
export function useLogs(base: string, live: boolean | undefined, onStatus: (e: StatusEvent) => void, onClose: () => void): Logs {
  const [store, setStore] = useState(() => new LogStore());
  const [version, setVersion] = useState(0);
  const [streaming, setStreaming] = useState(false);
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const callbacks = useRef({ onStatus, onClose });
  callbacks.current = { onStatus, onClose };
  const lastBase = useRef(base);

  useEffect(() => {
    if (live === undefined) return;
    // A different build starts from an empty store.
    let s = store;
    if (lastBase.current !== base) {
      lastBase.current = base;
      s = new LogStore();
      setStore(s);
      setVersion(0);
      setComplete(false);
    }
    setError(undefined);
    let stopped = false;

    if (!live) {
      (async () => {
        try {
          for (;;) {
            const after = s.lastSeq >= 0 ? `&after=${s.lastSeq}` : '';
            const page = await api<{ items: LogLine[] }>(`${base}/loglines?limit=${PAGE}${after}`);
            if (stopped) return;
            const added = s.add(page.items ?? []);
            setVersion(s.version);
            // Stop on an empty page, or when a page added nothing (a server ignoring `after`).
            if (!page.items?.length || added === 0) break;
          }
          setComplete(true);
        } catch (err) {
          if (!stopped) setError(err instanceof ApiError ? err : new ApiError(0, String(err)));
        }
      })();
      return () => {
        stopped = true;
      };
    }

    const es = new EventSource(`${base}/logs.stream`);
    let pending: LogLine[] = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      if (stopped) return;
      s.add(pending);
      pending = [];
      setVersion(s.version);
    };
    es.addEventListener('open', () => {
      setStreaming(true);
      setError(undefined);
    });
    es.addEventListener('log', (e) => {
      try {
        // The event is Estafette's TailLogLine with our line's fields beside it: keep only ours.
        const { seq, stage, run, time, stream, text } = JSON.parse((e as MessageEvent<string>).data) as LogLine;
        // Step events for Estafette's clients carry no seq: they are not lines.
        if (typeof seq === 'number') pending.push({ seq, stage, run, time, stream, text });
      } catch {
        return; // a malformed event must not stop the tail
      }
      if (!frame) frame = requestAnimationFrame(flush);
    });
    es.addEventListener('status', (e) => {
      try {
        callbacks.current.onStatus(JSON.parse((e as MessageEvent<string>).data) as StatusEvent);
      } catch {
        /* ignore a malformed status event */
      }
    });
    es.addEventListener('close', () => {
      es.close();
      flush();
      setStreaming(false);
      setComplete(true);
      callbacks.current.onClose();
    });
    es.addEventListener('error', () => {
      // CONNECTING = the browser retries by itself; CLOSED = the server refused the stream.
      if (es.readyState === EventSource.CLOSED) {
        setStreaming(false);
        setError(new ApiError(0, 'The live log stream could not be opened.'));
      } else {
        setStreaming(false);
      }
    });
    return () => {
      stopped = true;
      if (frame) cancelAnimationFrame(frame);
      es.close();
      setStreaming(false);
    };
  }, [base, live]);

  return { store, version, streaming, complete, error };
}
