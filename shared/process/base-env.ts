/**
 * The minimal base environment of every process the builder starts on the host (host-executor
 * stages and services, their readiness probes, git): PATH, HOME and the locale, taken from the
 * builder's own environment — nothing else of it. A stage's environment is this plus exactly the
 * plan's; the builder's variables (its config path, anything the process that started it had,
 * such as a secret key) never reach a stage. Containers get the image's own base instead.
 */

/** Where programs are looked up when the builder itself has no PATH. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** PATH, HOME, LANG, LANGUAGE and LC_* of `env`. */
export function baseEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = { PATH: env.PATH || DEFAULT_PATH };
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && (k === 'HOME' || k === 'LANG' || k === 'LANGUAGE' || k.startsWith('LC_'))) out[k] = v;
  }
  return out;
}
