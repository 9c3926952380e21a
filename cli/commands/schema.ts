/**
 * `estafette schema`: prints the JSON Schema of `.estafette.yaml` for editors (e.g. the YAML
 * language server's `# yaml-language-server: $schema=…`).
 */
import schema from '../../shared/manifest/schema.json' with { type: 'json' };

export const summary = 'print the JSON Schema of .estafette.yaml (for editors)';
export const usage = 'estafette schema > estafette.schema.json';

/** Prints the schema; takes no arguments. */
export async function run(args: string[]): Promise<number> {
  if (args.length > 0) {
    process.stderr.write(`estafette schema: takes no arguments\nusage: ${usage}\n`);
    return 2;
  }
  process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
  return 0;
}
