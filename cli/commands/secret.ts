/**
 * `estafette secret encrypt|decrypt|keygen`: makes and opens `estafette.secret(...)` values with
 * the key in ESTAFETTE_SECRET_KEY (base64, 32 bytes). Values can come from stdin (`-`) so they
 * need not appear in shell history or the process list.
 */
import { parseCliSettings } from '../../shared/config/config.ts';
import { decryptSecret, encryptSecret, generateSecretKey, parseSecretKey, SecretError } from '../../shared/secrets/secret.ts';

export const summary = 'encrypt, decrypt or generate keys for estafette.secret(...) values';
export const usage = `estafette secret encrypt [--allow REGEX] VALUE|-
estafette secret decrypt ENVELOPE|-
estafette secret keygen
  The key is read from ESTAFETTE_SECRET_KEY (base64 of 32 bytes). --allow restricts the secret to
  pipelines whose source/owner/repo matches REGEX (anchored; default '.*' = every pipeline).`;

function fail(message: string, code = 1): number {
  process.stderr.write(`estafette secret: ${message}\n`);
  return code;
}

function key(): Buffer {
  const k = parseCliSettings().secretKey;
  if (!k) throw new SecretError("ESTAFETTE_SECRET_KEY is not set; create a key with 'estafette secret keygen'");
  try {
    return parseSecretKey(k);
  } catch (err) {
    throw new SecretError(`ESTAFETTE_SECRET_KEY: ${(err as Error).message}`);
  }
}

/** `-` means stdin; one trailing newline (from `echo` or a heredoc) is dropped. */
async function valueArg(v: string): Promise<string> {
  if (v !== '-') return v;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Runs a subcommand; 0 on success, 1 on a secret/key error, 2 on wrong usage. */
export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case 'keygen':
        if (rest.length) return fail(`keygen takes no arguments\nusage: ${usage}`, 2);
        process.stdout.write(`${generateSecretKey()}\n`);
        return 0;
      case 'encrypt': {
        let allow = '.*';
        const values: string[] = [];
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i]!;
          if (a === '--allow') {
            if (rest[i + 1] === undefined) return fail(`--allow needs a regular expression\nusage: ${usage}`, 2);
            allow = rest[++i]!;
          } else if (a.startsWith('--allow=')) allow = a.slice('--allow='.length);
          else if (a.startsWith('-') && a !== '-') return fail(`unknown option '${a}'\nusage: ${usage}`, 2);
          else values.push(a);
        }
        if (values.length !== 1) return fail(`encrypt needs exactly one VALUE (or - for stdin)\nusage: ${usage}`, 2);
        process.stdout.write(`${encryptSecret(await valueArg(values[0]!), key(), allow)}\n`);
        return 0;
      }
      case 'decrypt': {
        if (rest.length !== 1) return fail(`decrypt needs exactly one ENVELOPE (or - for stdin)\nusage: ${usage}`, 2);
        const { value, allowList } = decryptSecret((await valueArg(rest[0]!)).trim(), key());
        process.stdout.write(`${value}\n`);
        process.stderr.write(`allowed pipelines: ${allowList}\n`);
        return 0;
      }
      default:
        return fail(sub ? `unknown subcommand '${sub}'\nusage: ${usage}` : `usage: ${usage}`, 2);
    }
  } catch (err) {
    if (err instanceof SecretError) return fail(err.message);
    throw err;
  }
}
