/**
 * The contract of a CLI command module: `cli/commands/<name>.ts` exports `summary` (one line
 * for `estafette help`) and `run(args)`, which resolves to the process exit code. Commands print
 * user errors as one line on stderr and return non-zero; they never let a stack trace out.
 */
export interface CommandModule {
  summary: string;
  usage?: string;
  run(args: string[]): Promise<number>;
}
