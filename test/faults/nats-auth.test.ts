/**
 * NATS authentication against own nats-servers (test/faults/services.ts): user and password in
 * the URL, a token in the URL or in NATS_TOKEN; without them the server answers Authorization
 * Violation; no error names a credential. And the config edge: NATS_CREDS_FILE must be a
 * readable `.creds` file, and not beside NATS_TOKEN.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNats, natsOptions } from '../../shared/bus/nats-connection.ts';
import { parseConfig } from '../../shared/config/config.ts';
import { ConfigError } from '../../shared/errors/http-error.ts';
import { startOwnNats, type OwnService } from './services.ts';

describe('faults: NATS credentials (own nats-servers)', function () {
  this.timeout(30_000);
  let withUser: OwnService & { bareUrl: string };
  let withToken: OwnService & { bareUrl: string };
  before(async () => {
    withUser = await startOwnNats({ user: 'ci', pass: 'p@ss:word' });
    withToken = await startOwnNats({ token: 'tok-3f9a' });
  });
  after(async () => {
    await withUser?.close();
    await withToken?.close();
  });

  const attempt = async (url: string, auth = {}) => {
    try {
      const nc = await connectNats(url, { name: 'auth-test', auth });
      await nc.close();
      return 'connected';
    } catch (err) {
      return (err as Error).message;
    }
  };

  const cases: Array<{ name: string; server: () => OwnService & { bareUrl: string }; url: (s: OwnService & { bareUrl: string }) => string; auth?: Record<string, string>; ok: boolean; secret?: string }> = [
    { name: 'user and password (URL-encoded) in the URL', server: () => withUser, url: (s) => s.url, ok: true },
    { name: 'no credentials', server: () => withUser, url: (s) => s.bareUrl, ok: false },
    { name: 'a wrong password in the URL', server: () => withUser, url: (s) => s.url.replace('p%40ss', 'nope'), ok: false, secret: 'nope' },
    { name: 'a token in the URL', server: () => withToken, url: (s) => s.url, ok: true },
    { name: 'a token in NATS_TOKEN (the URL without credentials)', server: () => withToken, url: (s) => s.bareUrl, auth: { token: 'tok-3f9a' }, ok: true },
    { name: 'a wrong token in NATS_TOKEN', server: () => withToken, url: (s) => s.bareUrl, auth: { token: 'tok-wrong' }, ok: false, secret: 'tok-wrong' },
  ];
  cases.forEach((c) =>
    it(`${c.name}: ${c.ok ? 'connects' : 'Authorization Violation, no credential in the message'}`, async () => {
      const got = await attempt(c.url(c.server()), c.auth);
      if (c.ok) expect(got).to.equal('connected');
      else {
        expect(got).to.match(/^cannot connect to NATS at nats:\/\/(\*\*\*@)?127\.0\.0\.1:\d+: .*authorization violation/i);
        if (c.secret) expect(got).not.to.include(c.secret);
      }
    }),
  );

  it('natsOptions: URL credentials lifted out of the server list; NATS_TOKEN / NATS_CREDS_FILE win over them', () => {
    const o = natsOptions('nats://u:p%40w@a:4222, nats://b:4222', 'x');
    expect(o).to.deep.include({ user: 'u', pass: 'p@w', servers: ['nats://a:4222', 'nats://b:4222'], maxReconnectAttempts: -1 });
    const t = natsOptions('nats://u:p@a:4222', 'x', { token: 't' });
    expect(t).to.deep.include({ token: 't' });
    expect(t).not.to.have.property('user');
  });

  describe('config: NATS_CREDS_FILE and NATS_TOKEN', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'estafette-creds-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const creds = '-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\nSUAM\n------END USER NKEY SEED------\n';
    const table = [
      { name: 'a readable .creds file', env: () => ({ NATS_CREDS_FILE: join(dir, 'ok.creds') }), error: undefined },
      { name: 'a missing file', env: () => ({ NATS_CREDS_FILE: join(dir, 'missing.creds') }), error: /NATS_CREDS_FILE.*ENOENT/ },
      { name: 'a file that is not a .creds file', env: () => ({ NATS_CREDS_FILE: join(dir, 'bad.creds') }), error: /NATS_CREDS_FILE.*not a NATS \.creds file/ },
      { name: 'both', env: () => ({ NATS_CREDS_FILE: join(dir, 'ok.creds'), NATS_TOKEN: 't' }), error: /NATS_TOKEN.*not both/ },
    ];
    table.forEach((c) =>
      it(`${c.name} → ${c.error ? 'ConfigError' : 'accepted'}`, () => {
        writeFileSync(join(dir, 'ok.creds'), creds);
        writeFileSync(join(dir, 'bad.creds'), 'hello');
        const run = () => parseConfig({ NATS_URL: 'nats://127.0.0.1:4222', ...c.env() });
        if (!c.error) expect(run().natsAuth.credsFile).to.equal(join(dir, 'ok.creds'));
        else {
          expect(run).to.throw(ConfigError);
          expect(run).to.throw(c.error);
        }
      }),
    );
  });
});
