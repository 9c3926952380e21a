import { expect } from 'chai';
import { createCipheriv, randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret, findSecrets, generateSecretKey, isAllowed, replaceSecrets, SecretError, SecretNotAllowedError } from '../../../shared/secrets/secret.ts';

const key = generateSecretKey();

describe('secrets', () => {
  const values = ['s3cr3t', '', 'multi\nline\nvalue', 'ünïcødé ✓', 'x'.repeat(10_000)];
  values.forEach((v) =>
    it(`round-trips ${JSON.stringify(v.slice(0, 20))}`, () => {
      const env = encryptSecret(v, key, 'github.com/estafette/.*');
      expect(env).to.match(/^estafette\.secret\([A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\)$/);
      expect(env).not.to.contain(v || '\u0000');
      expect(decryptSecret(env, key)).to.deep.equal({ value: v, allowList: 'github.com/estafette/.*' });
    }),
  );

  it('uses a 12-byte nonce and appends the 16-byte GCM tag to the ciphertext', () => {
    const env = encryptSecret('abcd', key);
    const [nonce, ct] = env.slice('estafette.secret('.length, -1).split('.');
    expect(Buffer.from(nonce!, 'base64url')).to.have.length(12);
    expect(Buffer.from(ct!, 'base64url')).to.have.length(4 + 16);
  });

  it('opens envelopes made the way upstream Estafette seals them (shared nonce, no allow-list part)', () => {
    const k = Buffer.from(key, 'base64');
    const nonce = randomBytes(12);
    const sealText = (s: string) => {
      const c = createCipheriv('aes-256-gcm', k, nonce);
      return Buffer.concat([c.update(s), c.final(), c.getAuthTag()]).toString('base64url');
    };
    const three = `estafette.secret(${nonce.toString('base64url')}.${sealText('v')}.${sealText('github.com/a/.*')})`;
    expect(decryptSecret(three, key)).to.deep.equal({ value: 'v', allowList: 'github.com/a/.*' });
    const two = `estafette.secret(${nonce.toString('base64url')}.${sealText('v')})`;
    expect(decryptSecret(two, key)).to.deep.equal({ value: 'v', allowList: '.*' });
  });

  const tamper: Array<[string, (parts: string[]) => string[]]> = [
    ['flipped ciphertext byte', (p) => [p[0]!, flip(p[1]!), p[2]!]],
    ['flipped nonce byte', (p) => [flip(p[0]!), p[1]!, p[2]!]],
    ['flipped allow-list byte', (p) => [p[0]!, p[1]!, flip(p[2]!)]],
    ['swapped allow-list from another secret', (p) => [p[0]!, p[1]!, encryptSecret('x', key, '.*').slice(17, -1).split('.')[2]!]],
    ['truncated ciphertext', (p) => [p[0]!, p[1]!.slice(0, 8), p[2]!]],
  ];
  tamper.forEach(([name, f]) =>
    it(`detects tampering: ${name}`, () => {
      const parts = encryptSecret('value', key, 'github.com/a/b').slice(17, -1).split('.');
      expect(() => decryptSecret(`estafette.secret(${f(parts).join('.')})`, key)).to.throw(SecretError);
    }),
  );

  it('accepts a raw 32-character key as upstream Estafette writes them', () => {
    const raw = '8c6E5e7R8ameE2L6qxEcN5Yc3Q7P4Yd4';
    const env = encryptSecret('v', raw);
    expect(decryptSecret(env, Buffer.from(raw, 'utf8')).value).to.equal('v');
    expect(() => decryptSecret(env, key)).to.throw(SecretError);
  });

  it('refuses another key, a bad key and malformed envelopes', () => {
    const env = encryptSecret('value', key);
    expect(() => decryptSecret(env, generateSecretKey())).to.throw(SecretError, /wrong key or tampered/);
    expect(() => decryptSecret(env, 'c2hvcnQ=')).to.throw(SecretError, /32 bytes/);
    expect(() => decryptSecret('estafette.secret(abc)', key)).to.throw(SecretError, /must look like/);
    expect(() => decryptSecret('estafette.secret(a!b.cd)', key)).to.throw(SecretError, /base64url/);
  });

  const allow: Array<[string, string, boolean]> = [
    ['.*', 'github.com/estafette/estafette-ci-api', true],
    ['github.com/estafette/.*', 'github.com/estafette/estafette-ci-api', true],
    ['github.com/estafette/.*', 'github.com/other/estafette-ci-api', false],
    ['github.com/estafette/api', 'github.com/estafette/api-fork', false],
    ['estafette', 'github.com/estafette/api', false],
    ['github.com/a/b|github.com/c/d', 'github.com/c/d', true],
    ['(', 'github.com/a/b', false],
  ];
  allow.forEach(([list, name, want]) => it(`allow-list '${list}' ${want ? 'admits' : 'refuses'} ${name}`, () => expect(isAllowed(list, name)).to.equal(want)));

  it('finds every envelope in a text and replaces each by what it maps to', () => {
    const a = encryptSecret('alpha', key);
    const b = encryptSecret('beta', key, 'github.com/o/.*');
    const text = `user: ${a}\npass: ${b}\nother: estafette.secret-ish`;
    expect(findSecrets(text)).to.deep.equal([a, b]);
    expect(replaceSecrets(text, (e) => decryptSecret(e, key).value)).to.equal('user: alpha\npass: beta\nother: estafette.secret-ish');
  });

  it('never includes the value in the error of a refused secret', () => {
    const b = encryptSecret('topsecretvalue', key, 'github.com/o/.*');
    const err = new SecretNotAllowedError('github.com/x/y', decryptSecret(b, key).allowList);
    expect(err.message).to.contain('github.com/x/y').and.not.contain('topsecretvalue');
  });
});

function flip(part: string): string {
  const buf = Buffer.from(part, 'base64url');
  buf[buf.length - 1] = buf[buf.length - 1]! ^ 1;
  return buf.toString('base64url');
}
