/**
 * The browser tab shows what the page is about: `document.title`, and on build and release
 * pages a favicon in the run's status colour with its icon (✓ ✗ ● …), so a running build can be
 * watched from another tab. Leaving the page restores the plain favicon.
 */
import { useEffect } from 'preact/hooks';

const COLOURS: Record<string, string> = {
  succeeded: '#1a7f37',
  failed: '#cf222e',
  running: '#bf8700',
  canceling: '#bf8700',
  pending: '#6e7781',
  canceled: '#6e7781',
};
const GLYPHS: Record<string, string> = { succeeded: '✓', failed: '✗', running: '●', canceling: '⊘', pending: '○', canceled: '⊘' };

/** The plain favicon (index.html has the same). */
export const DEFAULT_ICON = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%2300a3b4'/%3E%3C/svg%3E";

/** A favicon for a status: a filled circle in its colour with a white mark. */
export function statusIcon(status: string): string {
  const fill = COLOURS[status] ?? '#00a3b4';
  const mark =
    status === 'succeeded'
      ? "<path d='M4.5 8.5l2.5 2.5 4.5-5' stroke='white' stroke-width='2' fill='none'/>"
      : status === 'failed'
        ? "<path d='M5 5l6 6M11 5l-6 6' stroke='white' stroke-width='2'/>"
        : status === 'running' || status === 'canceling'
          ? "<circle cx='8' cy='8' r='3' fill='white'/>"
          : "<circle cx='8' cy='8' r='3' fill='none' stroke='white' stroke-width='1.5'/>";
  return `data:image/svg+xml,${encodeURIComponent(`<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><circle cx='8' cy='8' r='8' fill='${fill}'/>${mark}</svg>`)}`;
}

function setIcon(href: string, status: string | undefined): void {
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement('link');
    link.rel = 'icon';
    document.head.appendChild(link);
  }
  link.href = href;
  if (status) link.dataset.status = status;
  else delete link.dataset.status;
}

/** Sets the tab's title (`<title> · Estafette CI`); with a status also its icon and title mark. */
export function useTabStatus(title: string | undefined, status?: string): void {
  useEffect(() => {
    if (title === undefined) return;
    document.title = `${status ? `${GLYPHS[status] ?? ''} ` : ''}${title} · Estafette CI`.trimStart();
    setIcon(status ? statusIcon(status) : DEFAULT_ICON, status);
  }, [title, status]);
  useEffect(() => () => setIcon(DEFAULT_ICON, undefined), []);
}
