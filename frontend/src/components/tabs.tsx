/**
 * Tabs that are links (so each tab has a URL and works with back/forward), marked up as
 * navigation with `aria-current` on the active one.
 */

/** A row of tab links; `active` is the id of the current tab. */
export function Tabs({ tabs, active, label }: { tabs: Array<{ id: string; label: string; href: string }>; active: string; label: string }) {
  return (
    <nav class="tabs" aria-label={label}>
      {tabs.map((t) => (
        <a key={t.id} href={t.href} class={t.id === active ? 'tab active' : 'tab'} aria-current={t.id === active ? 'page' : undefined}>
          {t.label}
        </a>
      ))}
    </nav>
  );
}
