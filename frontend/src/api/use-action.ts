/**
 * `useAction()`: runs a mutating API call (rebuild, cancel, release) and keeps its outcome —
 * busy, the error, or a confirmation — for the button that started it to show in place.
 */
import { useState } from 'preact/hooks';
import { api, ApiError } from './client.ts';

export interface Action {
  busy: boolean;
  error: ApiError | undefined;
  done: string | undefined;
  /** Sends the request; on success shows `doneMessage` and calls `after`. */
  run: (method: 'POST' | 'DELETE', path: string, body: unknown, doneMessage: string, after?: () => void) => Promise<boolean>;
  clear: () => void;
}

/** State for one action button (or form). */
export function useAction(): Action {
  const [state, setState] = useState<{ busy: boolean; error?: ApiError; done?: string }>({ busy: false });
  return {
    ...state,
    error: state.error,
    done: state.done,
    clear: () => setState({ busy: false }),
    run: async (method, path, body, doneMessage, after) => {
      setState({ busy: true });
      try {
        await api(path, { method, body });
        setState({ busy: false, done: doneMessage });
        after?.();
        return true;
      } catch (err) {
        setState({ busy: false, error: err instanceof ApiError ? err : new ApiError(0, String(err)) });
        return false;
      }
    },
  };
}
