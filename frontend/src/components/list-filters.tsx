/**
 * Filters of a list page kept in the URL query (so a filtered view can be shared and survives a
 * reload): a status select, one text filter (branch or target, applied after a pause in
 * typing), the period, and the page number — reset whenever a filter changes.
 */
import { useEffect, useState } from 'preact/hooks';
import { navigate, useLocation } from '../router.ts';

const SINCE = [
  ['', 'any time'],
  ['1h', 'last hour'],
  ['1d', 'last day'],
  ['1w', 'last week'],
  ['1m', 'last month'],
] as const;

export interface ListQuery {
  values: Record<string, string>;
  page: number;
  filtered: boolean;
  set: (changes: Record<string, string | null>) => void;
  setPage: (n: number) => void;
}

/** The filter values `names` (and `page`) of the current URL. */
export function useListQuery(names: string[]): ListQuery {
  const loc = useLocation();
  const values = Object.fromEntries(names.map((n) => [n, loc.query.get(n) ?? '']));
  const set = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(loc.query);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('page' in changes)) next.delete('page');
    const q = next.toString();
    navigate(`${loc.path}${q ? `?${q}` : ''}`, { replace: true });
  };
  return {
    values,
    page: Number(loc.query.get('page') ?? '1') || 1,
    filtered: names.some((n) => values[n]),
    set,
    setPage: (n) => set({ page: n > 1 ? String(n) : null }),
  };
}

/** Status, one text filter and the period, for `useListQuery` state. */
export function ListFilters({ f, statuses, text }: { f: ListQuery; statuses: readonly string[]; text: { name: string; label: string; placeholder: string } }) {
  const [typed, setTyped] = useState(f.values[text.name] ?? '');
  useEffect(() => setTyped(f.values[text.name] ?? ''), [f.values[text.name]]);
  useEffect(() => {
    if (typed === (f.values[text.name] ?? '')) return;
    const t = setTimeout(() => f.set({ [text.name]: typed.trim() || null }), 300);
    return () => clearTimeout(t);
  }, [typed]);
  return (
    <form class="filters" role="search" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
      <label>
        Status
        <select name="status" value={f.values.status} onChange={(e) => f.set({ status: e.currentTarget.value || null })}>
          <option value="">all</option>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        {text.label}
        <input type="search" name={text.name} value={typed} placeholder={text.placeholder} onInput={(e) => setTyped(e.currentTarget.value)} />
      </label>
      <label>
        Since
        <select name="since" value={f.values.since} onChange={(e) => f.set({ since: e.currentTarget.value || null })}>
          {SINCE.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      </label>
      {f.filtered ? (
        <button type="button" class="link-button" onClick={() => f.set(Object.fromEntries(Object.keys(f.values).map((k) => [k, null])))}>
          Clear the filters
        </button>
      ) : null}
    </form>
  );
}
