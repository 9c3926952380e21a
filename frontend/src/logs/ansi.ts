/**
 * One log line's text as safe HTML with its ANSI styles, via `anser` (escape first, then
 * colour, so nothing in a log can inject markup). Colours are made readable: a foreground is
 * adjusted (contrast.ts) to reach 4.5:1 on the log and highlighted-line backgrounds, or on its
 * own background colour when the text sets one; `dim` becomes a dimmer but still readable
 * colour rather than half opacity. Results are cached per line object, so scrolling a
 * 100,000-line log converts each line once.
 */
import Anser from 'anser';
import type { LogLine } from '../api/types.ts';
import { LOG_BACKGROUNDS, readable, type Rgb } from './contrast.ts';

/** The log's default text colour (styles.css `--log-fg`). */
const LOG_FG: Rgb = [0xe6, 0xed, 0xf3];

const cache = new WeakMap<LogLine, string>();
const styles = new Map<string, string>();

const rgbOf = (v: string): Rgb | undefined => {
  const m = /rgb\(\s*(\d+),\s*(\d+),\s*(\d+)\s*\)/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
};
const css = ([r, g, b]: Rgb) => `rgb(${r}, ${g}, ${b})`;

/** An anser style attribute with its colours made readable (memoised: lines repeat few styles). */
function readableStyle(style: string): string {
  let out = styles.get(style);
  if (out !== undefined) return out;
  const decl = new Map<string, string>();
  for (const d of style.split(';')) {
    const i = d.indexOf(':');
    if (i > 0) decl.set(d.slice(0, i).trim(), d.slice(i + 1).trim());
  }
  const bg = decl.has('background-color') ? rgbOf(decl.get('background-color')!) : undefined;
  let fg = decl.has('color') ? rgbOf(decl.get('color')!) : undefined;
  const dim = decl.get('opacity') === '0.5';
  decl.delete('opacity');
  if (dim) fg = [0, 1, 2].map((i) => Math.round((fg ?? LOG_FG)[i]! * 0.6)) as unknown as Rgb;
  // Text with its own background only has to read on that; other text on every log background.
  if (fg || bg) decl.set('color', css(readable(fg ?? LOG_FG, bg ? [bg] : LOG_BACKGROUNDS)));
  out = [...decl].map(([k, v]) => `${k}:${v}`).join(';');
  styles.set(style, out);
  return out;
}

/** HTML for `text`: `<`, `&` … escaped; SGR colour/bold codes turned into styled spans with readable colours; other escapes dropped. */
export function ansiToHtml(text: string): string {
  // Fast path: most lines carry no escape at all.
  if (!text.includes('\u001b')) return Anser.escapeForHtml(text);
  const html = Anser.ansiToHtml(Anser.escapeForHtml(text), { use_classes: false, remove_empty: true });
  return html.replace(/ style="([^"]*)"/g, (_, s: string) => ` style="${readableStyle(s)}"`);
}

/** ansiToHtml of a line's text, converted once per line object. */
export function lineHtml(line: LogLine): string {
  let html = cache.get(line);
  if (html === undefined) {
    html = ansiToHtml(line.text);
    cache.set(line, html);
  }
  return html;
}
