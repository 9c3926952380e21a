/**
 * `estafette schema`: prints the JSON Schema of `.estafette.yaml` for editors (e.g. the YAML
 * language server's `# yaml-language-server: $schema=…`).
 */
import { readFileSync } from 'node:fs';

export const summary = 'print the JSON Schema of .estafette.yaml (for editors)';
export const usage = 'estafette schema > estafette.schema.json';

/** Prints the schema; takes no arguments. */
export async function run(args: string[]): Promise<number> {
  if (args.length > 0) {
    process.stderr.write(`estafette schema: takes no arguments\nusage: ${usage}\n`);
    return 2;
  }
  process.stdout.write(readFileSync(new URL('../../shared/manifest/schema.json', import.meta.url), 'utf8'));
  return 0;
}
