/**
 * The text of a manifest as bytes become it: `decodeManifestBytes` decodes UTF-8 strictly (a
 * manifest that is not UTF-8 is refused, never silently altered), and `storableText` keeps a
 * text with NUL (which the parser refuses as "not a text file") storable in PostgreSQL. A
 * refused text is an invalid manifest: build-dispatch records the build as failed with the reason.
 */

/** Bytes that are not UTF-8: `message` says where (line and column of the first bad byte). */
export class ManifestEncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestEncodingError';
  }
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** 1-based line and column of `index` in `text`. */
function position(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}

/** The manifest text of `bytes`; throws ManifestEncodingError when they are not valid UTF-8. */
export function decodeManifestBytes(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    // Where: the first replacement character of a lenient decoding (normally the first bad sequence).
    const lenient = new TextDecoder('utf-8').decode(bytes);
    const at = position(lenient, Math.max(0, lenient.indexOf('\uFFFD')));
    throw new ManifestEncodingError(`the manifest is not valid UTF-8 text (an invalid byte sequence at line ${at.line}, column ${at.column})`);
  }
}

/** `text` as it can be stored (PostgreSQL TEXT holds no NUL): each NUL becomes U+FFFD. */
export const storableText = (text: string): string => (text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text);
