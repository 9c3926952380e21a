/**
 * Sign-in: shown when `/api/me` says auth is on and nobody is signed in. Lists the configured
 * identity providers; each button goes to the server's `/api/auth/login/<provider>` redirect.
 */
import type { Me } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { ErrorBox, Loading } from '../components/feedback.tsx';
import { useSession } from '../session.ts';

/** An entry of `/api/auth/providers` (Estafette's `{id, name, path}` plus our `label`). */
type Provider = string | { id?: string; name: string; label?: string; title?: string };

/** The sign-in page. */
export function SignInPage() {
  const me: Me | undefined = useSession();
  const res = useResource<Provider[] | { items: Provider[] }>(me?.authEnabled ? '/api/auth/providers' : null);
  if (me && !me.authEnabled)
    return (
      <section class="signin">
        <h1>Sign in</h1>
        <p>Auth is off on this server: everyone is administrator, there is nothing to sign in to.</p>
        <a href="/">Go to the pipelines</a>
      </section>
    );
  if (me?.authenticated)
    return (
      <section class="signin">
        <h1>Signed in</h1>
        <p>
          You are signed in as {me.user?.name || me.user?.email} ({me.role}). <a href="/">Go to the pipelines</a>
        </p>
      </section>
    );
  const list = Array.isArray(res.data) ? res.data : (res.data?.items ?? []);
  const back = encodeURIComponent(location.pathname === '/signin' ? '/' : location.pathname + location.search);
  return (
    <section class="signin">
      <h1>Sign in to Estafette</h1>
      <p>This server requires you to sign in.</p>
      {res.error ? <ErrorBox error={res.error} retry={res.reload} context="Could not load the sign-in providers" /> : null}
      {res.loading && !res.data ? <Loading what="providers" /> : null}
      {res.data && list.length === 0 ? <p>No sign-in provider is configured; ask an administrator.</p> : null}
      <ul class="providers">
        {list.map((p) => {
          const name = typeof p === 'string' ? p : (p.id ?? p.name);
          const label = typeof p === 'string' ? p : (p.label ?? p.title ?? p.name);
          return (
            <li key={name}>
              <a class="button primary" href={`/api/auth/login/${encodeURIComponent(name)}?returnURL=${back}`}>
                Sign in with {label}
              </a>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
