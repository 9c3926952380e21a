/**
 * `estafette secret encrypt|decrypt|keygen`: makes and opens `estafette.secret(...)` values with
 * the key in ESTAFETTE_SECRET_KEY (base64, 32 bytes). Values can come from stdin (`-`) so they
 * need not appear in shell history or the process list.
 */
import { parseCliConfig } from '../../shared/config/config.ts';
import { parseCommandArgs, UsageError } from '../args.ts';
import { decryptSecret, encryptSecret, generateSecretKey, parseSecretKey, SecretError } from '../../shared/secrets/secret.ts';

export const summary = 'encrypt, decrypt or generate keys for estafette.secret(...) values';
export const usage = `estafette secret encrypt [--allow REGEX] VALUE|-
       estafette secret decrypt ENVELOPE|-
       estafette secret keygen`;
export const details = `The key is read from ESTAFETTE_SECRET_KEY (base64 of 32 bytes); keygen makes one.
A VALUE or ENVELOPE of - is read from stdin, so it stays out of shell history and the process list.

options:
  --allow REGEX   (encrypt) only pipelines whose source/owner/repo matches REGEX may use the
                  secret (anchored; default '.*' = every pipeline)

exit codes: 0 done, 1 a key or secret error, 2 wrong usage`;

function fail(message: string): number {
  process.stderr.write(`estafette secret: ${message}\n`);
  return 1;
}

function key(): Buffer {
  const k = parseCliConfig().secretKey;
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
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Runs a subcommand; 0 on success, 1 on a secret/key error, 2 on wrong usage. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { options: { allow: { type: 'string' } }, positionals: { names: ['SUBCOMMAND', 'VALUE'], required: 1 } });
  const [sub, value] = positionals;
  if (values.allow !== undefined && sub !== 'encrypt') throw new UsageError('--allow belongs to encrypt');
  try {
    switch (sub) {
      case 'keygen':
        if (value !== undefined) throw new UsageError('keygen takes no arguments');
        process.stdout.write(`${generateSecretKey()}\n`);
        return 0;
      case 'encrypt': {
        if (value === undefined) throw new UsageError('encrypt needs a VALUE (or - for stdin)');
        process.stdout.write(`${encryptSecret(await valueArg(value), key(), values.allow ?? '.*')}\n`);
        return 0;
      }
      case 'decrypt': {
        if (value === undefined) throw new UsageError('decrypt needs an ENVELOPE (or - for stdin)');
        const { value: plain, allowList } = decryptSecret((await valueArg(value)).trim(), key());
        process.stdout.write(`${plain}\n`);
        process.stderr.write(`allowed pipelines: ${allowList}\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown subcommand '${sub}'`);
    }
  } catch (err) {
    if (err instanceof SecretError) return fail(err.message);
    throw err;
  }
}
