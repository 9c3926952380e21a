/**
 * The one argument-parsing idiom of every `estafette` command: node:util `parseArgs` in strict
 * mode with `-h`/`--help` added to the command's options, the number of positionals checked, and
 * every mistake turned into a UsageError. cli/main.ts answers a UsageError with the command's
 * usage on stderr and exit code 2, and a HelpRequest with the command's help on stdout and exit 0,
 * so no command prints usage itself.
 */
import { parseArgs } from 'node:util';

/** One option as `parseArgs` declares it. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}

/** Wrong arguments: main prints `estafette <command>: <message>` and the usage, then exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `-h` / `--help` was given: main prints the command's help and exits 0. */
export class HelpRequest extends Error {
  constructor() {
    super('help requested');
    this.name = 'HelpRequest';
  }
}

/** What a command accepts besides `--help`. */
export interface ArgsSpec<O extends Record<string, OptionSpec>> {
  options?: O;
  /** The positionals the command takes, by name for messages (default none); the first `required` must be given. */
  positionals?: { names: string[]; required?: number };
}

type Values<O extends Record<string, OptionSpec>> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? (O[K]['multiple'] extends true ? boolean[] : boolean) : O[K]['multiple'] extends true ? string[] : string;
};

/** The parsed arguments of a command. */
export interface ParsedArgs<O extends Record<string, OptionSpec>> {
  values: Values<O>;
  positionals: string[];
}

/** node's messages, shortened to what a user needs (they suggest `--` for every unknown option). */
function rewrite(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const message = String(e.message ?? err);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  // The option as the user wrote it: "Option '-b, --branch <value>' argument missing" names both.
  const option = /--[\w-]+/.exec(quoted)?.[0] ?? quoted.split(' ')[0];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option '${quoted}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take an argument/.test(message) ? `option '${option}' takes no value` : `option '${option}' needs a value`;
    default:
      return message.charAt(0).toLowerCase() + message.slice(1);
  }
}

/** Parses `args` by `spec`; throws UsageError or HelpRequest (see the module header). */
export function parseCommandArgs<O extends Record<string, OptionSpec>>(args: string[], spec: ArgsSpec<O> = {}): ParsedArgs<O> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: { ...spec.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    // `--help` still wins over a mistake elsewhere on the line: the user asked how to write it.
    if (args.includes('--help') || args.includes('-h')) throw new HelpRequest();
    throw new UsageError(rewrite(err));
  }
  const { help, ...values } = parsed.values;
  if (help) throw new HelpRequest();
  const { names = [], required = 0 } = spec.positionals ?? {};
  const n = parsed.positionals.length;
  if (n > names.length) throw new UsageError(`unexpected argument '${parsed.positionals[names.length]}'`);
  if (n < required) throw new UsageError(`missing ${names.slice(n, required).join(' and ')}`);
  return { values: values as Values<O>, positionals: parsed.positionals };
}

/** `value` when it is one of `choices`, else a UsageError naming the option. */
export function choice<T extends string>(option: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${option} must be ${choices.length === 2 ? choices.join(' or ') : `one of ${choices.join(', ')}`}, not '${value}'`);
}

/** `value` as an integer from `min` to `max`, else a UsageError naming the option. */
export function integer(option: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (/^\d+$/.test(value) && n >= min && n <= max) return n;
  const range = max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : min > 0 ? ` of at least ${min}` : '';
  throw new UsageError(`--${option} must be a whole number${range}, not '${value}'`);
}
