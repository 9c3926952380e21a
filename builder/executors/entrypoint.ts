/**
 * The script a stage's shell runs, like the entrypoint Estafette generates for each stage
 * container: `set -e`, and each command echoed as written (prefixed with `> `) before it runs.
 *
 * Order over marking: the script first points the shell's stderr at its stdout (`exec 2>&1`),
 * so everything the commands write reaches the builder through ONE pipe, in the order it was
 * written. With two pipes the kernel keeps the order within each pipe only, and a reader that
 * finds both readable cannot know which write came first (a stderr line written before later
 * stdout used to land after it). The price is the stream marking of command output: it is all
 * `stdout`. GitHub Actions, GitLab and Woodpecker make the same choice. What keeps its stderr
 * marking: the builder's own lines (`estafette: …` notes, executor and git errors), and the
 * output of images run with their own entrypoint (extensions), whose streams the engine keeps
 * apart.
 */

/** Quotes a string for a POSIX shell. */
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The script for a list of commands; each command is echoed before it runs. */
export function entrypointScript(commands: string[]): string {
  const lines = ['exec 2>&1', 'set -e'];
  for (const c of commands) {
    lines.push(`printf '%s\\n' ${shellQuote(`> ${c}`)}`);
    lines.push(c);
  }
  return `${lines.join('\n')}\n`;
}
