/**
 * Terminal escape sequences in log text: one pattern for what a reader does not see (CSI
 * sequences such as SGR colours, OSC titles/links, two-character escapes), written so that
 * JavaScript, PostgreSQL's and CockroachDB's regular expressions read it the same way — the
 * plain-text log (`logs.txt`) strips with it in the function, log search strips with it in SQL
 * (only lines that hold an escape; a pattern letting escapes sit between the searched characters
 * was tried: faster for short texts, slower for long ones, and it found text inside escapes).
 */

/** The escape-sequence pattern, as regular-expression source (no flags). */
export const ANSI_ESCAPE_SOURCE = String.raw`\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\^_])`;

const ESCAPES = new RegExp(ANSI_ESCAPE_SOURCE, 'g');

/** `text` without terminal escape sequences (what a terminal would show, minus colours). */
export const stripAnsi = (text: string): string => (text.includes('\u001b') ? text.replace(ESCAPES, '') : text);
