/**
 * `estafette <command> [args]`: looks the command up in COMMANDS and runs it. Each command
 * lives in its own file under cli/commands/ and is imported only when it runs, so
 * `estafette validate` never loads what `estafette start` needs (the bundle keeps each in its own
 * chunk). Here too: `--version`, `--help`, `help <command>`, and the answers to a command's
 * UsageError (usage on stderr, exit 2) and HelpRequest (help on stdout, exit 0).
 */
import { readFileSync } from 'node:fs';
import { isDebug } from '../shared/config/config.ts';
import { pathToFileURL } from 'node:url';
import { packagePath } from '../shared/runtime/package-path.ts';
import { HelpRequest, UsageError } from './args.ts';
import type { CommandModule } from './command.ts';

/** Every command, by name (one line each; the file is `cli/commands/<name>.ts`). */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  builds: () => import('./commands/builds.ts'),
  logs: () => import('./commands/logs.ts'),
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

async function overview(): Promise<string> {
  const names = Object.keys(COMMANDS).sort();
  // A command that fails to load still gets listed: help must never crash.
  const summaryOf = async (n: string) => (await load(n).catch(() => undefined))?.summary ?? '';
  const lines = await Promise.all(names.map(async (n) => `  ${n.padEnd(10)} ${await summaryOf(n)}`));
  return [
    'usage: estafette <command> [args]',
    '',
    'commands:',
    ...lines,
    '',
    "'estafette help <command>' or 'estafette <command> --help' shows a command's options;",
    "'estafette --version' prints the version.",
    '',
  ].join('\n');
}

/** The `--help` text of a command. */
function commandHelp(name: string, cmd: CommandModule): string {
  return `estafette ${name}: ${cmd.summary}\n\nusage: ${cmd.usage}\n${cmd.details ? `\n${cmd.details.replace(/\n*$/, '\n')}` : ''}`;
}

const unknown = (name: string): number => {
  process.stderr.write(`estafette: unknown command '${name}' (see 'estafette help')\n`);
  return 2;
};

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-V') {
    // Read at run time, so a bundle never reports the version it was built at.
    const { version } = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };
    process.stdout.write(`estafette ${version}\n`);
    return 0;
  }
  if (name === 'help' && args.length > 0) {
    const cmd = await load(args[0]!);
    if (!cmd) return unknown(args[0]!);
    process.stdout.write(commandHelp(args[0]!, cmd));
    return 0;
  }
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    // Bare `estafette` is a usage mistake (exit 2); asking for help is not.
    (name ? process.stdout : process.stderr).write(await overview());
    return name ? 0 : 2;
  }
  const cmd = await load(name);
  if (!cmd) return unknown(name);
  try {
    return await cmd.run(args);
  } catch (err) {
    if (err instanceof HelpRequest) {
      process.stdout.write(commandHelp(name, cmd));
      return 0;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`estafette ${name}: ${err.message}\nusage: ${cmd.usage}\n${cmd.details ? `(estafette ${name} --help explains the options)\n` : ''}`);
      return 2;
    }
    // Last line of defence: a bug must still not print a stack trace at the user.
    process.stderr.write(`estafette ${name}: ${(err as Error)?.message ?? String(err)}\n`);
    if (isDebug()) console.error(err);
    return 1;
  }
}

// Run as a program (`node dist/cli.mjs migrate` in the migration Job); bin/estafette.js imports main.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
