/**
 * The script a stage's shell runs, like the entrypoint Estafette generates for each stage
 * container: `set -e`, and each command echoed (prefixed with `> `) before it runs.
 */

/** Quotes a string for a POSIX shell. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The `set -e` script for a list of commands; each command is echoed before it runs. */
export function entrypointScript(commands: string[]): string {
  const lines = ['set -e'];
  for (const c of commands) {
    lines.push(`printf '%s\\n' ${shellQuote(`> ${c}`)}`);
    lines.push(c);
  }
  return `${lines.join('\n')}\n`;
}
