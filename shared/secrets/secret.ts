/**
 * Estafette secrets: `estafette.secret(<nonce>.<ciphertext>[.<allow-list>])` values in manifests.
 * AES-256-GCM with a 32-byte key (base64 in ESTAFETTE_SECRET_KEY) and a 12-byte random nonce;
 * each part is base64url (padding accepted and written, as Go's base64.URLEncoding does); the
 * ciphertext is the GCM sealed box (encrypted bytes followed by the 16-byte tag), like Go's
 * `gcm.Seal`. The optional third part is the encrypted allow-list: an anchored regex over
 * `source/owner/repo` saying which pipelines may decrypt the secret (`.*` = every pipeline).
 *
 * Upstream seals the allow-list with the same nonce as the value, which reuses a GCM nonce. Here
 * the allow-list is sealed with a derived nonce (first byte flipped); decryption tries that one
 * first and falls back to the shared nonce so envelopes made by Estafette still open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Matches one envelope anywhere in a text; group 1 is the dotted payload. */
const ENVELOPE = /estafette\.secret\(([A-Za-z0-9_=-]+(?:\.[A-Za-z0-9_=-]+){1,2})\)/g;

/** A secret that cannot be opened: malformed, tampered with, or sealed with another key. */
export class SecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretError';
  }
}

/** A secret whose allow-list does not include the pipeline that tries to use it. */
export class SecretNotAllowedError extends SecretError {
  constructor(
    readonly pipeline: string,
    readonly allowList: string,
  ) {
    super(`a secret in this manifest is restricted to pipelines matching '${allowList}' and cannot be used by ${pipeline}`);
    this.name = 'SecretNotAllowedError';
  }
}

function b64urlEncode(buf: Buffer): string {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function b64urlDecode(s: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(s)) throw new SecretError(`secret ${what} is not base64url`);
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/**
 * Decodes the 32-byte key: base64 (standard or url). A 32-character text that is not base64 of
 * 32 bytes is taken as the raw key, which is how upstream Estafette keys are written, so secrets
 * made there still open. Throws SecretError naming the problem (never the key).
 */
export function parseSecretKey(key: string | Buffer): Buffer {
  if (typeof key !== 'string') {
    if (key.length !== KEY_BYTES) throw new SecretError(`secret key must be ${KEY_BYTES} bytes (got ${key.length})`);
    return key;
  }
  const text = key.trim();
  let decoded: Buffer | undefined;
  try {
    decoded = b64urlDecode(text.replace(/\+/g, '-').replace(/\//g, '_'), 'key');
  } catch {
    decoded = undefined;
  }
  if (decoded?.length === KEY_BYTES) return decoded;
  if (Buffer.byteLength(text, 'utf8') === KEY_BYTES) return Buffer.from(text, 'utf8');
  throw new SecretError(`secret key must be ${KEY_BYTES} bytes encoded as base64 (got ${decoded?.length ?? 0} bytes)`);
}

/** A fresh random key, base64 encoded, suitable for ESTAFETTE_SECRET_KEY. */
export function generateSecretKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function seal(key: Buffer, nonce: Buffer, plaintext: string): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
}

function open(key: Buffer, nonce: Buffer, sealed: Buffer): string | undefined {
  if (sealed.length < TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

function allowListNonce(nonce: Buffer): Buffer {
  const derived = Buffer.from(nonce);
  derived[0] = derived[0]! ^ 0xff;
  return derived;
}

/** Encrypts value into an `estafette.secret(...)` envelope restricted to pipelines matching allowList. */
export function encryptSecret(value: string, key: string | Buffer, allowList = '.*'): string {
  const k = parseSecretKey(key);
  try {
    new RegExp(allowList);
  } catch (err) {
    throw new SecretError(`allow-list is not a valid regular expression: ${(err as Error).message}`);
  }
  const nonce = randomBytes(NONCE_BYTES);
  const parts = [nonce, seal(k, nonce, value), seal(k, allowListNonce(nonce), allowList)];
  return `estafette.secret(${parts.map(b64urlEncode).join('.')})`;
}

/**
 * Opens an envelope (with or without the `estafette.secret(...)` wrapper). A secret without an
 * allow-list part is global (`.*`). Throws SecretError when malformed, tampered with or sealed
 * with another key.
 */
export function decryptSecret(envelope: string, key: string | Buffer): { value: string; allowList: string } {
  const k = parseSecretKey(key);
  const m = /^\s*estafette\.secret\((.*)\)\s*$/s.exec(envelope);
  const payload = (m ? m[1]! : envelope).trim();
  const parts = payload.split('.');
  if (parts.length < 2 || parts.length > 3) throw new SecretError('secret must look like estafette.secret(<nonce>.<ciphertext>[.<allow-list>])');
  const nonce = b64urlDecode(parts[0]!, 'nonce');
  if (nonce.length !== NONCE_BYTES) throw new SecretError(`secret nonce must be ${NONCE_BYTES} bytes`);
  const value = open(k, nonce, b64urlDecode(parts[1]!, 'ciphertext'));
  if (value === undefined) throw new SecretError('secret cannot be decrypted: wrong key or tampered ciphertext');
  if (parts.length === 2) return { value, allowList: '.*' };
  const sealedList = b64urlDecode(parts[2]!, 'allow-list');
  const allowList = open(k, allowListNonce(nonce), sealedList) ?? open(k, nonce, sealedList);
  if (allowList === undefined) throw new SecretError('secret allow-list cannot be decrypted: wrong key or tampered ciphertext');
  return { value, allowList };
}

/** True when pipelineFullName (`source/owner/repo`) matches the allow-list as an anchored regex. */
export function isAllowed(allowList: string, pipelineFullName: string): boolean {
  try {
    return new RegExp(`^(?:${allowList})$`).test(pipelineFullName);
  } catch {
    // An allow-list that is not a regex restricts to nothing rather than to everything.
    return false;
  }
}

/** Every envelope in text, in order of appearance, each as the full `estafette.secret(...)` string. */
export function findSecrets(text: string): string[] {
  return [...text.matchAll(ENVELOPE)].map((m) => m[0]);
}

/** Replaces every envelope in text (the whole `estafette.secret(...)`) by what `replace` returns for it. */
export function replaceSecrets(text: string, replace: (envelope: string) => string): string {
  return text.replace(ENVELOPE, (whole) => replace(whole));
}
