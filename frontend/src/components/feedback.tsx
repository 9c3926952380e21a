/**
 * The three in-place states every data view has besides its content: loading, an API error
 * (with a retry), and empty (saying what to do next).
 */
import type { ComponentChildren } from 'preact';
import type { ApiError } from '../api/client.ts';

/** A polite "Loading …" line, announced to screen readers. */
export function Loading({ what = '' }: { what?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading{what ? ` ${what}` : ''}…
    </p>
  );
}

/** An API error in place of the content it stopped, with a Retry button when `retry` is given. */
export function ErrorBox({ error, retry, context }: { error: ApiError | Error | string; retry?: () => void; context?: string }) {
  const message = typeof error === 'string' ? error : error.message;
  const status = typeof error === 'object' && 'status' in error ? error.status : undefined;
  return (
    <div class="error-box" role="alert">
      <strong>{context ?? 'Something went wrong'}</strong>
      {status ? <span class="error-status"> (HTTP {status})</span> : null}: {message}
      {retry ? (
        <button type="button" class="link-button" onClick={retry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

/** An empty state: a title and what the user can do about it. */
export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children ? <div class="empty-help">{children}</div> : null}
    </div>
  );
}
