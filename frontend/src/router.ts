/**
 * A tiny history-API router: the current location as a hook, `navigate()`, and route matching
 * with `:params`. The URL hash stays free for log line anchors (`#L<seq>`). Links are plain
 * `<a href>`; one document-level click handler turns same-origin clicks into navigations.
 */
import { useEffect, useState } from 'preact/hooks';

/** The parts of the location a page renders from. */
export interface Location {
  path: string;
  query: URLSearchParams;
  hash: string;
}

const listeners = new Set<() => void>();
const current = (): Location => ({ path: location.pathname, query: new URLSearchParams(location.search), hash: location.hash });

/** Goes to `url` (path + optional query/hash) without a page load; `replace` keeps history short for filter edits. */
export function navigate(url: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  const pathChanged = !url.startsWith('#');
  if (pathChanged && !url.includes('#')) window.scrollTo(0, 0);
  listeners.forEach((l) => l());
}

/** Re-renders the caller on every navigation (push, replace, back/forward, hash change). */
export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    window.addEventListener('popstate', update);
    window.addEventListener('hashchange', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
      window.removeEventListener('hashchange', update);
    };
  }, []);
  return loc;
}

/** Matches `path` against a pattern like `/pipelines/:source/:owner/:repo`; params are decoded. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i]!.startsWith(':')) {
      try {
        params[p[i]!.slice(1)] = decodeURIComponent(s[i]!);
      } catch {
        return null;
      }
    } else if (p[i] !== s[i]) return null;
  }
  return params;
}

/** Installs the click handler that keeps same-origin `<a href>` clicks inside the app. */
export function interceptLinks(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.('a');
    if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
    // The API (sign-in redirects, raw logs) is served by the server, not by the app.
    if (a.pathname.startsWith('/api/')) return;
    e.preventDefault();
    if (a.pathname === location.pathname && a.search === location.search && a.hash) {
      history.pushState(null, '', a.hash);
      listeners.forEach((l) => l());
      return;
    }
    navigate(a.pathname + a.search + a.hash);
  });
}

/** The in-app URL of a pipeline (and optionally a sub path such as `builds/12`). */
export const pipelineUrl = (p: { repoSource: string; repoOwner: string; repoName: string }, rest = ''): string =>
  `/pipelines/${encodeURIComponent(p.repoSource)}/${encodeURIComponent(p.repoOwner)}/${encodeURIComponent(p.repoName)}${rest ? `/${rest}` : ''}`;
