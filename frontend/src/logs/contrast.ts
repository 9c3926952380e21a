/**
 * WCAG contrast for log colours: relative luminance, the contrast ratio of two colours, and the
 * nearest colour to a wanted one that reaches a minimum ratio against every background it can
 * be drawn on (the log, and each highlighted-line background). Program output picks colours
 * for terminals of any theme; the log view adjusts them so every line stays readable (AA, 4.5:1).
 */

/** An sRGB colour, 0–255 per channel. */
export type Rgb = readonly [number, number, number];

/** WCAG AA for normal text. */
export const MIN_CONTRAST = 4.5;

/**
 * Backgrounds a log line can have (must match styles.css): the log in the light and the dark
 * theme, then the highlighted lines — a linked line, the current search match, the error line.
 */
export const LOG_BACKGROUNDS: readonly Rgb[] = [
  [0x0d, 0x11, 0x17],
  [0x01, 0x04, 0x09],
  [0x3a, 0x30, 0x14],
  [0x1b, 0x33, 0x55],
  [0x48, 0x1c, 0x20],
];

/** `#rrggbb` → Rgb. */
export const hex = (h: string): Rgb => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)];

/** WCAG relative luminance. */
export function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio (1–21) of two colours. */
export function contrast(a: Rgb, b: Rgb): number {
  const [x, y] = [luminance(a), luminance(b)];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * t)) as unknown as Rgb;
const worst = (c: Rgb, backgrounds: readonly Rgb[]) => Math.min(...backgrounds.map((bg) => contrast(c, bg)));

/**
 * `color` itself when it reaches `min` against every background, else the colour closest to it
 * on its way to white or to black (whichever needs the smaller step) that does.
 */
export function readable(color: Rgb, backgrounds: readonly Rgb[], min = MIN_CONTRAST): Rgb {
  if (worst(color, backgrounds) >= min) return color;
  let best: Rgb | undefined;
  let bestT = Infinity;
  for (const target of [
    [255, 255, 255],
    [0, 0, 0],
  ] as Rgb[]) {
    if (worst(target, backgrounds) < min) continue;
    // The ratio grows monotonically along the way towards this end: bisect the smallest step.
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 16; i++) {
      const t = (lo + hi) / 2;
      if (worst(mix(color, target, t), backgrounds) >= min) hi = t;
      else lo = t;
    }
    if (hi < bestT) {
      bestT = hi;
      best = mix(color, target, hi);
    }
  }
  return best ?? (luminance(color) > 0.18 ? [255, 255, 255] : [0, 0, 0]);
}
