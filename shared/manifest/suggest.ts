/**
 * "Did you mean …?" for misspelt manifest keys: the known key closest to an unknown one, by edit
 * distance (insertions, deletions, substitutions and swaps of neighbours), case ignored. Short
 * keys allow one edit and longer ones two, so `imgae` finds `image` while an extension's own
 * property such as `tags` or `path` is left alone.
 */

/** Optimal-string-alignment distance between a and b, giving up (returning max + 1) beyond max. */
function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** The known key an unknown key was most likely meant to be, or undefined when none is close. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  const allowed = k.length <= 5 ? 1 : 2;
  let best: { key: string; d: number } | undefined;
  for (const candidate of known) {
    if (candidate === key) return undefined;
    const d = editDistance(k, candidate.toLowerCase(), allowed);
    if (d <= allowed && (!best || d < best.d)) best = { key: candidate, d };
  }
  return best?.key;
}

/** The hint text for a misspelt key. */
export const didYouMean = (key: string, known: readonly string[]): string | undefined => {
  const close = closestKey(key, known);
  return close ? `did you mean \`${close}\`?` : undefined;
};
