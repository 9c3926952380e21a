/**
 * Light, dark or the system's theme: the choice is kept in localStorage and applied as
 * `<html data-theme="light|dark">` (index.html applies it before the first paint, so there is
 * no flash); "system" follows `prefers-color-scheme`, also when it changes.
 */
import { useEffect, useState } from 'preact/hooks';

export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

/** localStorage key (index.html reads the same). */
export const THEME_KEY = 'estafette.theme';

const dark = () => window.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;

/** Applies a theme choice to the document. */
export function applyTheme(theme: Theme): void {
  const resolved = theme === 'system' ? (dark() ? 'dark' : 'light') : theme;
  document.documentElement.dataset.theme = resolved;
  document.documentElement.style.colorScheme = resolved;
}

function stored(): Theme {
  try {
    const v = localStorage.getItem(THEME_KEY);
    return (THEMES as readonly string[]).includes(v ?? '') ? (v as Theme) : 'system';
  } catch {
    return 'system';
  }
}

/** The theme choice and its setter (which remembers and applies it). */
export function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(stored);
  useEffect(() => {
    applyTheme(theme);
    if (theme !== 'system') return;
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    const onChange = () => applyTheme('system');
    mq?.addEventListener('change', onChange);
    return () => mq?.removeEventListener('change', onChange);
  }, [theme]);
  return [
    theme,
    (t) => {
      try {
        localStorage.setItem(THEME_KEY, t);
      } catch {
        /* private mode: this page only */
      }
      applyTheme(t);
      setTheme(t);
    },
  ];
}
