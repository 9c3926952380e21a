/**
 * `estafette <command> [args]`: finds `cli/commands/<command>.ts` and runs it. Commands are
 * discovered from that folder so each lives in its own file and adding one touches nothing else.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CommandModule } from './command.ts';

const commandsDir = fileURLToPath(new URL('./commands/', import.meta.url));

async function load(name: string): Promise<CommandModule | undefined> {
  if (!/^[a-z][a-z-]*$/.test(name)) return undefined;
  const file = `${commandsDir}${name}.ts`;
  if (!existsSync(file)) return undefined;
  return (await import(pathToFileURL(file).href)) as CommandModule;
}

async function help(): Promise<string> {
  const names = readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
  // A command that fails to load still gets listed: help must never crash.
  const summaryOf = async (n: string) => (await load(n).catch(() => undefined))?.summary ?? '';
  const lines = await Promise.all(names.map(async (n) => `  ${n.padEnd(10)} ${await summaryOf(n)}`));
  return `usage: estafette <command> [args]\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(await help());
    return name ? 0 : 2;
  }
  const cmd = await load(name);
  if (!cmd) {
    process.stderr.write(`estafette: unknown command '${name}' (see 'estafette help')\n`);
    return 2;
  }
  try {
    return await cmd.run(args);
  } catch (err) {
    // Last line of defence: a bug must still not print a stack trace at the user.
    process.stderr.write(`estafette ${name}: ${(err as Error)?.message ?? String(err)}\n`);
    if (process.env.ESTAFETTE_DEBUG) console.error(err);
    return 1;
  }
}
