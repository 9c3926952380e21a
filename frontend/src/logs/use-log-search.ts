/**
 * Search over a whole build or release log on the server (`…/loglines?q=`), so it covers every line —
 * also the ones not in the DOM and, for a million-line log, not even loaded: the query is sent
 * a moment after typing stops, an older answer never replaces a newer one, and `refresh` asks
 * again (new lines of a live run).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api/client.ts';
import type { LogSearch } from '../api/types.ts';

const DEBOUNCE_MS = 250;

export interface LogSearchState {
  result: LogSearch | undefined;
  error: ApiError | undefined;
  loading: boolean;
}

/** Searches `base`'s log for `query` ('' = no search); `refresh` changing searches again. */
export function useLogSearch(base: string, query: string, refresh: unknown): LogSearchState {
  const [state, setState] = useState<LogSearchState & { for?: string }>({ result: undefined, error: undefined, loading: false });
  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setState({ result: undefined, error: undefined, loading: false });
      return;
    }
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    const t = setTimeout(() => {
      api<LogSearch>(`${base}/loglines?q=${encodeURIComponent(q)}`, { signal: ctrl.signal }).then(
        (result) => setState({ result, error: undefined, loading: false }),
        (err: unknown) => {
          if ((err as Error).name === 'AbortError') return;
          setState({ result: undefined, error: err instanceof ApiError ? err : new ApiError(0, String(err)), loading: false });
        },
      );
    }, DEBOUNCE_MS);
    return () => {
      clearTimeout(t);
      ctrl.abort();
    };
  }, [base, query, refresh]);
  return state;
}
