/**
 * `estafette schema`: prints the JSON Schema of `.estafette.yaml` for editors (e.g. the YAML
 * language server's `# yaml-language-server: $schema=…`).
 */
import schema from '../../shared/manifest/schema.json' with { type: 'json' };
import { parseCommandArgs } from '../args.ts';

export const summary = 'print the JSON Schema of .estafette.yaml (for editors)';
export const usage = 'estafette schema > estafette.schema.json';

/** Prints the schema; takes no arguments. */
export async function run(args: string[]): Promise<number> {
  parseCommandArgs(args);
  process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
  return 0;
}
