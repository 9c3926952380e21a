/**
 * The contract of a CLI command module: `cli/commands/<name>.ts` exports `summary` (one line
 * for `estafette help`), `usage` (the synopsis), optionally `details` (options and exit codes,
 * shown by `--help`), and `run(args)`, which resolves to the process exit code. Arguments are
 * parsed with parseCommandArgs (cli/args.ts): its UsageError and HelpRequest are answered by
 * cli/main.ts. Commands print other user errors as one line on stderr and return non-zero; they
 * never let a stack trace out.
 */
export interface CommandModule {
  summary: string;
  usage: string;
  details?: string;
  run(args: string[]): Promise<number>;
}
