/**
 * `estafette <command> [args]`: looks the command up in COMMANDS and runs it. Each command
 * lives in its own file under cli/commands/ and is imported only when it runs, so
 * `estafette validate` never loads what `estafette start` needs (the bundle keeps each in its own
 * chunk).
 */
import { pathToFileURL } from 'node:url';
import type { CommandModule } from './command.ts';

/** Every command, by name (one line each; the file is `cli/commands/<name>.ts`). */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  migrate: () => import('./commands/migrate.ts'),
  plan: () => import('./commands/plan.ts'),
  run: () => import('./commands/run.ts'),
  schema: () => import('./commands/schema.ts'),
  secret: () => import('./commands/secret.ts'),
  start: () => import('./commands/start.ts'),
  trigger: () => import('./commands/trigger.ts'),
  validate: () => import('./commands/validate.ts'),
};

async function load(name: string): Promise<CommandModule | undefined> {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name]!() : undefined;
}

async function help(): Promise<string> {
  const names = Object.keys(COMMANDS).sort();
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

// Run as a program (`node dist/cli.mjs migrate` in the migration Job); bin/estafette.js imports main.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
