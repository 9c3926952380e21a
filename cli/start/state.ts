/**
 * The local mode's state folder (`.estafette/` in the working directory): the embedded
 * database's data and the generated settings (generic webhook token, secret key, JWT key), kept
 * so builds and tokens survive a restart. The settings file is readable by its owner only.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { localStateDir } from '../../shared/config/config.ts';

export interface LocalSettings {
  webhookToken: string;
  secretKey: string;
  jwtKey: string;
}

/** The state folder's path (ESTAFETTE_STATE_DIR or ./.estafette), without creating it. */
export const stateDirPath = (env: NodeJS.ProcessEnv = process.env): string => resolve(localStateDir(env));

/** The state folder (ESTAFETTE_STATE_DIR or ./.estafette), created when missing. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = stateDirPath(env);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

/**
 * Settings from the environment when set (`fromEnv`, parsed by the config), else from
 * `<dir>/settings.json`, generating and storing what is missing.
 */
export function loadSettings(dir: string, fromEnv: Partial<LocalSettings> = {}): LocalSettings {
  const file = join(dir, 'settings.json');
  const stored: Partial<LocalSettings> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const settings: LocalSettings = {
    webhookToken: stored.webhookToken ?? randomBytes(24).toString('base64url'),
    secretKey: stored.secretKey ?? randomBytes(32).toString('base64'),
    jwtKey: stored.jwtKey ?? randomBytes(32).toString('base64url'),
  };
  if (JSON.stringify(stored) !== JSON.stringify(settings)) writeFileSync(file, JSON.stringify(settings, null, 2), { mode: 0o600 });
  return {
    webhookToken: fromEnv.webhookToken || settings.webhookToken,
    secretKey: fromEnv.secretKey || settings.secretKey,
    jwtKey: fromEnv.jwtKey || settings.jwtKey,
  };
}
