/**
 * A small reader of the repository's Dockerfile: its build stages, each with its base and its
 * instructions (continuation lines joined, comments dropped, heredoc bodies kept with the
 * instruction that opens them). Enough to check targets, users and what each image copies,
 * without a Docker engine.
 */
import { readFileSync } from 'node:fs';

/** One instruction: `COPY --from=prod-deps /app/node_modules node_modules` → { keyword: 'COPY', args: '…' }. */
export interface Instruction {
  keyword: string;
  args: string;
}

/** One `FROM … AS name` stage. */
export interface Stage {
  name: string;
  /** The image or stage it starts from, after ARG defaults are substituted. */
  from: string;
  instructions: Instruction[];
}

/** Parses Dockerfile text into its stages. */
export function parseDockerfile(text: string): Stage[] {
  const lines = text.split('\n');
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i].trim()}`;
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${i + 1}: cannot read '${line}'`);
    const keyword = m[1].toUpperCase();
    const args = m[2].trim();
    const heredoc = /<<-?'?"?([A-Z]+)'?"?/.exec(args);
    if (heredoc) while (i + 1 < lines.length && lines[++i].trim() !== heredoc[1]);
    if (keyword === 'FROM') {
      const [image, as, name] = args.split(/\s+/);
      if (as?.toUpperCase() !== 'AS' || !name) throw new Error(`Dockerfile line ${i + 1}: every stage needs a name (FROM … AS <name>)`);
      stages.push({ name, from: image.replace(/\$\{?(\w+)\}?/g, (_, v: string) => globalArgs[v] ?? ''), instructions: [] });
    } else if (stages.length === 0) {
      const arg = keyword === 'ARG' ? /^(\w+)=(.*)$/.exec(args) : null;
      if (arg) globalArgs[arg[1]] = arg[2];
    } else stages[stages.length - 1].instructions.push({ keyword, args });
  }
  return stages;
}

/** Reads and parses a Dockerfile. */
export const readDockerfile = (path: string): Stage[] => parseDockerfile(readFileSync(path, 'utf8'));

/** A stage and the stages it is built on, nearest first (`query-api`, `functions-runtime`, `base`). */
export function stageChain(stages: Stage[], name: string): Stage[] {
  const chain: Stage[] = [];
  let cur = stages.find((s) => s.name === name);
  while (cur) {
    chain.push(cur);
    const from = cur.from;
    cur = stages.find((s) => s.name === from);
  }
  return chain;
}

/** The value of the last instruction `keyword` along a stage's chain (what the image ends up with). */
export function effective(stages: Stage[], name: string, keyword: string): string | undefined {
  for (const stage of stageChain(stages, name)) {
    const found = stage.instructions.filter((i) => i.keyword === keyword).at(-1);
    if (found) return found.args;
  }
  return undefined;
}
