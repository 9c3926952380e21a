/**
 * `useStartBuild()`: asks for a new build (rebuild, re-run failed stages) and then goes to it.
 * The API answers 202 with the request's event id before build-dispatch has made the build, so
 * this polls `…/builds?filter[eventId]=` until the build is there and navigates to its page.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, pipelinePath } from './client.ts';
import type { Build, List } from './types.ts';
import { navigate, pipelineUrl } from '../router.ts';

type Ref = { repoSource: string; repoOwner: string; repoName: string };

/** How long to wait for build-dispatch to create the build before saying so. */
const WAIT_MS = 60_000;
const POLL_MS = 400;

export interface StartBuild {
  /** What is going on, for the button and a status line. */
  state: 'idle' | 'requesting' | 'waiting' | 'timeout';
  error: ApiError | undefined;
  /** POSTs `body` to `path`, then follows the new build. */
  start: (path: string, body: unknown) => Promise<void>;
}

/** State for one rebuild / re-run button. */
export function useStartBuild(pref: Ref): StartBuild {
  const [state, setState] = useState<StartBuild['state']>('idle');
  const [error, setError] = useState<ApiError | undefined>();
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);

  const start = async (path: string, body: unknown) => {
    setError(undefined);
    setState('requesting');
    let eventId: string;
    try {
      eventId = (await api<{ eventId: string }>(path, { method: 'POST', body })).eventId;
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, String(err)));
      setState('idle');
      return;
    }
    setState('waiting');
    const until = Date.now() + WAIT_MS;
    while (alive.current && Date.now() < until) {
      try {
        const found = await api<List<Build>>(`${pipelinePath(pref)}/builds?filter[eventId]=${encodeURIComponent(eventId)}&page[size]=1`);
        const b = found.items[0];
        if (b) {
          if (alive.current) navigate(pipelineUrl(pref, `builds/${encodeURIComponent(b.id)}`));
          return;
        }
      } catch {
        // A failed poll is retried until the deadline.
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (alive.current) setState('timeout');
  };
  return { state, error, start };
}
