/**
 * Masks decrypted secret values in log lines: every value longer than 3 characters, its base64
 * form, and each line (longer than 3 characters) of a multi-line value becomes `***`. Shorter
 * values are left alone because masking `a` or `ok` everywhere would make logs unreadable and
 * reveal nothing worth hiding.
 */

/** Replaces secrets in one line of text. */
export type Masker = (text: string) => string;

/** The replacement for a masked value. */
const MASK = '***';

const MIN_LENGTH = 4;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The strings to hide for a set of decrypted values, longest first so overlaps mask fully. */
export function maskedStrings(values: readonly string[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (v.length < MIN_LENGTH) continue;
    out.add(v);
    out.add(Buffer.from(v, 'utf8').toString('base64'));
    if (/\r?\n/.test(v)) {
      for (const line of v.split(/\r?\n/)) if (line.trim().length >= MIN_LENGTH) out.add(line);
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** A masker for the given decrypted values; the identity when there is nothing to mask. */
export function createMasker(values: readonly string[]): Masker {
  const strings = maskedStrings(values);
  if (strings.length === 0) return (text) => text;
  const re = new RegExp(strings.map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(re, MASK);
}
