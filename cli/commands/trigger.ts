/**
 * `estafette trigger [DIR] [--branch B]`: builds a local repository's HEAD on a running
 * `estafette start` (ESTAFETTE_URL, default http://localhost:8080) through the generic webhook,
 * with the token from ESTAFETTE_WEBHOOK_TOKEN or the local state folder.
 */
import { parseCliSettings } from '../../shared/config/config.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSettings, stateDir } from '../start/state.ts';
import { triggerRepo } from '../start/trigger.ts';

export const summary = 'build a local repository on a running `estafette start`';
export const usage = 'estafette trigger [DIR] [--branch BRANCH]';

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { branch: { type: 'string', short: 'b' } } });
  } catch (err) {
    process.stderr.write(`estafette trigger: ${(err as Error).message}\nusage: ${usage}\n`);
    return 2;
  }
  const dir = parsed.positionals[0] ?? '.';
  if (!existsSync(join(dir, '.estafette.yaml'))) {
    process.stderr.write(`estafette trigger: no .estafette.yaml in ${dir}\n`);
    return 2;
  }
  const settings = parseCliSettings();
  const baseUrl = settings.url;
  const stored = join(settings.stateDir, 'settings.json');
  if (!settings.webhookToken && !existsSync(stored)) {
    process.stderr.write(`estafette trigger: set ESTAFETTE_WEBHOOK_TOKEN (printed by 'estafette start'), or run from the folder where 'estafette start' keeps .estafette/\n`);
    return 2;
  }
  const token = settings.webhookToken || loadSettings(stateDir(settings.stateDir)).webhookToken;
  try {
    const r = await triggerRepo(baseUrl, token, dir, parsed.values.branch);
    process.stdout.write(`triggered ${r.repository} ${r.branch}@${r.revision.slice(0, 8)} (event ${r.eventId})\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`estafette trigger: ${(err as Error).message}\n`);
    return 1;
  }
}
