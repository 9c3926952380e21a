/**
 * One log line's text as safe HTML with its ANSI colours, via `anser` (escape first, then
 * colour, so nothing in a log can inject markup).
 */
import Anser from 'anser';

/** HTML for `text`: `<`, `&` … escaped; SGR colour/bold codes turned into styled spans; other escapes dropped. */
export function ansiToHtml(text: string): string {
  // Fast path: most lines carry no escape at all.
  if (!text.includes('\u001b')) return Anser.escapeForHtml(text);
  return Anser.ansiToHtml(Anser.escapeForHtml(text), { use_classes: false, remove_empty: true });
}
