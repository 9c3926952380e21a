/**
 * The app shell: header with navigation, the theme choice and the current user, the auth gate
 * (sign-in page when auth is on and nobody is signed in), and the route table. Pages about one
 * pipeline, build or release set the tab's title (and status icon) themselves.
 */
import { useEffect } from 'preact/hooks';
import { useResource } from './api/use-resource.ts';
import { api } from './api/client.ts';
import type { Me } from './api/types.ts';
import { match, useLocation } from './router.ts';
import { SessionContext } from './session.ts';
import { ErrorBox, Loading } from './components/feedback.tsx';
import { PipelinesPage } from './pages/pipelines.tsx';
import { PipelinePage } from './pages/pipeline.tsx';
import { RunPage } from './pages/run.tsx';
import { InsightsPage } from './pages/insights.tsx';
import { ToolsPage } from './pages/tools.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { BuildsPage } from './pages/builds.tsx';
import { ReleasesPage } from './pages/releases.tsx';
import { THEMES, useTheme, type Theme } from './theme.ts';

/** A route; `title` undefined: the page sets the tab title itself. */
type Route = { pattern: string; render: (p: Record<string, string>) => preact.ComponentChild; title?: string };

const PIPE = '/pipelines/:source/:owner/:repo';
const ROUTES: Route[] = [
  { pattern: '/', title: 'Pipelines', render: () => <PipelinesPage /> },
  { pattern: '/pipelines', title: 'Pipelines', render: () => <PipelinesPage /> },
  { pattern: '/builds', title: 'Builds', render: () => <BuildsPage /> },
  { pattern: '/releases', title: 'Releases', render: () => <ReleasesPage /> },
  { pattern: PIPE, render: (p) => <PipelinePage {...pipe(p)} tab="builds" /> },
  { pattern: `${PIPE}/:tab`, render: (p) => <PipelinePage {...pipe(p)} tab={p.tab!} /> },
  { pattern: `${PIPE}/builds/:id`, render: (p) => <RunPage {...pipe(p)} kind="build" id={p.id!} tab="logs" /> },
  { pattern: `${PIPE}/builds/:id/:tab`, render: (p) => <RunPage {...pipe(p)} kind="build" id={p.id!} tab={p.tab!} /> },
  { pattern: `${PIPE}/releases/:id`, render: (p) => <RunPage {...pipe(p)} kind="release" id={p.id!} tab="logs" /> },
  { pattern: `${PIPE}/bots/:id`, render: (p) => <RunPage {...pipe(p)} kind="bot" id={p.id!} tab="logs" /> },
  { pattern: '/insights', title: 'Insights', render: () => <InsightsPage /> },
  { pattern: '/tools', title: 'Tools', render: () => <ToolsPage /> },
  { pattern: '/signin', title: 'Sign in', render: () => <SignInPage /> },
];

function pipe(p: Record<string, string>) {
  return { repoSource: p.source!, repoOwner: p.owner!, repoName: p.repo! };
}

/** The whole UI. */
export function App() {
  const loc = useLocation();
  const me = useResource<Me>('/api/me');

  let found: { route: Route; params: Record<string, string> } | undefined;
  for (const route of ROUTES) {
    const params = match(route.pattern, loc.path);
    if (params) {
      found = { route, params };
      break;
    }
  }
  const ownTitle = !!found && found.route.title === undefined;
  useEffect(() => {
    if (!ownTitle) document.title = `${found?.route.title ?? 'Not found'} · Estafette CI`;
  }, [found?.route.title, ownTitle]);

  const session = me.data;
  const mustSignIn = session?.authEnabled && !session.authenticated;

  return (
    <SessionContext.Provider value={session}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Header me={session} path={loc.path} />
      {session && !session.authEnabled ? (
        <p class="auth-off" role="note">
          <span aria-hidden="true">⚠ </span>Auth is off: everyone is administrator (local mode).
        </p>
      ) : null}
      <main id="main" tabIndex={-1}>
        {me.error && !session ? <ErrorBox error={me.error} retry={me.reload} context="Could not load your session (the server still checks every action)" /> : null}
        {me.loading && !session && !me.error ? <Loading what="session" /> : null}
        {session || me.error ? mustSignIn ? <SignInPage /> : found ? found.route.render(found.params) : <NotFound /> : null}
      </main>
    </SessionContext.Provider>
  );
}

function Header({ me, path }: { me: Me | undefined; path: string }) {
  const [theme, setTheme] = useTheme();
  const nav = [
    { href: '/', label: 'Pipelines', active: path === '/' || path.startsWith('/pipelines') },
    { href: '/builds', label: 'Builds', active: path === '/builds' },
    { href: '/releases', label: 'Releases', active: path === '/releases' },
    { href: '/insights', label: 'Insights', active: path === '/insights' },
    { href: '/tools', label: 'Tools', active: path === '/tools' },
  ];
  return (
    <header class="top">
      <a class="brand" href="/">
        <span class="brand-mark" aria-hidden="true">
          ◆
        </span>{' '}
        Estafette
      </a>
      <nav aria-label="Main">
        {nav.map((n) => (
          <a key={n.href} href={n.href} class={n.active ? 'active' : undefined} aria-current={n.active ? 'page' : undefined}>
            {n.label}
          </a>
        ))}
      </nav>
      <label class="theme">
        <span class="visually-hidden">Theme</span>
        <select value={theme} aria-label="Theme" onChange={(e) => setTheme(e.currentTarget.value as Theme)}>
          {THEMES.map((t) => (
            <option key={t} value={t}>
              {t === 'system' ? '◐ system theme' : t === 'light' ? '☀ light' : '☾ dark'}
            </option>
          ))}
        </select>
      </label>
      <div class="user" aria-label="Current user">
        {me ? (
          me.authEnabled && me.authenticated ? (
            <>
              <span class="user-name">{me.user?.name || me.user?.email}</span> <span class="role">{me.role}</span>{' '}
              <button type="button" class="link-button" onClick={signOut}>
                Sign out
              </button>
            </>
          ) : me.authEnabled ? (
            <a href="/signin">Sign in</a>
          ) : (
            <>
              <span class="user-name">local</span> <span class="role">{me.role || 'administrator'}</span>
            </>
          )
        ) : null}
      </div>
    </header>
  );
}

/** Signs out (a POST with the CSRF header: a link or another site's form cannot), then reloads at the start page. */
async function signOut(): Promise<void> {
  try {
    await api('/api/auth/logout', { method: 'POST' });
  } finally {
    window.location.assign('/');
  }
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <a href="/">Go to the pipelines</a>.
      </p>
    </section>
  );
}
