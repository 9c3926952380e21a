/**
 * `useResource(path)`: loads JSON from the API for a component, with loading and error state,
 * optional polling while the tab is visible, and a `reload()` for after an action. The previous
 * data stays on screen while a refresh runs so lists do not flash.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './client.ts';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads `path` (null = nothing to load yet); re-polls every `refreshMs` when given. */
export function useResource<T>(path: string | null, refreshMs?: number): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean; path: string | null }>({ loading: path !== null, path });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);

  // A new path must not show the old path's data.
  if (state.path !== path) setState({ loading: path !== null, path });

  useEffect(() => {
    if (path === null) return;
    const ctrl = new AbortController();
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    api<T>(path, { signal: ctrl.signal }).then(
      (data) => mine === seq.current && setState({ data, loading: false, path }),
      (err: unknown) => {
        if ((err as Error).name === 'AbortError' || mine !== seq.current) return;
        const error = err instanceof ApiError ? err : new ApiError(0, String((err as Error)?.message ?? err));
        setState((s) => ({ ...s, error, loading: false, path }));
      },
    );
    return () => ctrl.abort();
  }, [path, tick]);

  useEffect(() => {
    if (!refreshMs || path === null) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') setTick((t) => t + 1);
    }, refreshMs);
    return () => clearInterval(timer);
  }, [path, refreshMs]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
