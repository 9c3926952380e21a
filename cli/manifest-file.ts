/**
 * Reading a manifest's text for the CLI (`validate`, `plan`): a file or stdin as UTF-8, refusing
 * directories and reading at most one byte past the parser's size limit, so a 50 MB file is
 * refused by the parser's own message without being read whole. Text that is not UTF-8 reaches
 * the parser as "not a text file".
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { MAX_MANIFEST_BYTES } from '../shared/manifest/parse.ts';

/** The file or stream cannot be read at all (exit code 2 in the commands). */
export class UnreadableError extends Error {}

/** Reads the file as UTF-8 text; throws UnreadableError for a missing, unreadable or directory path. */
export function readManifestFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UnreadableError(code === 'ENOENT' ? `${file}: no such file` : code === 'EACCES' ? `${file}: permission denied` : `${file}: cannot be opened (${code ?? 'unknown error'})`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UnreadableError(`${file}: is a directory, not a manifest file`);
    // Read at most one byte past the limit: enough for the parser to refuse, never 50 MB.
    const buf = Buffer.alloc(MAX_MANIFEST_BYTES + 1);
    let n = 0;
    for (;;) {
      let got: number;
      try {
        got = readSync(fd, buf, n, buf.length - n, null);
      } catch (err) {
        throw new UnreadableError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      if (got === 0 || (n += got) >= buf.length) break;
    }
    return decode(buf.subarray(0, n), n > MAX_MANIFEST_BYTES);
  } finally {
    closeSync(fd);
  }
}

/** Reads stdin up to one byte past the limit (the parser then refuses it). */
export async function readManifestStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of process.stdin) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      chunks.push(buf);
      if ((total += buf.length) > MAX_MANIFEST_BYTES) break;
    }
  } catch (err) {
    throw new UnreadableError(`stdin: cannot be read (${(err as Error).message})`);
  }
  const all = Buffer.concat(chunks);
  return decode(all.subarray(0, MAX_MANIFEST_BYTES + 1), all.length > MAX_MANIFEST_BYTES);
}

function decode(buf: Buffer, truncated: boolean): string {
  // A truncated text is still over the limit, so the parser refuses it with its own message.
  if (truncated) return buf.toString('latin1');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    // Not UTF-8: hand the parser text with a NUL so it reports "not a text file".
    return '\u0000';
  }
}
