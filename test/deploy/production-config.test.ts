/**
 * What production reads, and what it refuses. Every variable the functions read (the keys
 * `parseConfig` asks its environment for, recorded through a Proxy) is documented in one of the
 * configuration tables of docs/deploy-knative.md — the Secret, the two ConfigMaps, or what Knative
 * sets — and each ConfigMap key of the manifests is in its table; secrets are documented as Secret
 * keys. On Knative (K_SERVICE set) sign-in is required: with the production overlay's ConfigMaps
 * and a Secret holding every documented key but ESTAFETTE_AUTH, the config parser raises a
 * ConfigError naming ESTAFETTE_AUTH and every function's bundle exits 1 with that one line;
 * `ESTAFETTE_AUTH=off` (on purpose) or a sign-in configuration lets it start.
 */
import { expect } from 'chai';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../cli/start/database.ts';
import { parseConfig } from '../../shared/config/config.ts';
import { ConfigError } from '../../shared/errors/http-error.ts';
import { FUNCTION_NAMES } from '../../shared/http/functions.ts';
import { spawnFunction, waitForHttp } from '../support/processes.ts';
import { ofKind, renderedObjects, requireKubectl, ROOT, type Located } from './documents.ts';

const DOC = readFileSync(join(ROOT, 'docs/deploy-knative.md'), 'utf8');

/** The backticked names in the first column of the table under `heading` (a `###` line of the doc). */
function tableKeys(heading: string): string[] {
  const start = DOC.indexOf(`\n### ${heading}\n`);
  if (start < 0) throw new Error(`docs/deploy-knative.md has no section '### ${heading}'`);
  const section = DOC.slice(start + 1).split(/\n#{2,3} /)[0]!;
  const rows = section.split('\n').filter((l) => l.startsWith('| `'));
  return rows.flatMap((r) => [...r.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!));
}
const SECRET = 'The Secret `estafette-secrets`';
const CONFIG = 'The ConfigMap `estafette-config`';
const BUILDER = 'The ConfigMap `estafette-builder-defaults`';
const KNATIVE = 'Set by Knative, not by you';

/** Every variable name parseConfig reads from `env` (a Proxy records each lookup). */
function variablesRead(env: Record<string, string>): string[] {
  const read = new Set<string>();
  const proxy = new Proxy(env, {
    get: (target, key) => {
      if (typeof key === 'string') read.add(key);
      return target[key as string];
    },
  });
  parseConfig(proxy as NodeJS.ProcessEnv);
  return [...read].sort();
}

/** Values that parse for every documented Secret key (a stand-in for what an operator puts there). */
function documentedSecret(): Record<string, string> {
  const sample: Record<string, string> = {
    DATABASE_URL: 'postgresql://estafette:pw@cockroachdb-public.cockroachdb.svc.cluster.local:26257/estafette?sslmode=require',
    ESTAFETTE_SECRET_KEY: randomBytes(32).toString('base64'),
    ESTAFETTE_JWT_KEY: randomBytes(24).toString('hex'),
    GITHUB_APP_ID: '123456',
    GITHUB_APP_PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    ESTAFETTE_FORGE_CREDENTIALS: '{}',
  };
  return Object.fromEntries(tableKeys(SECRET).map((k) => [k, sample[k] ?? `value-of-${k.toLowerCase()}`]));
}

const configMaps = (objs: Located[]): Record<string, Record<string, string>> =>
  Object.fromEntries(
    ofKind(objs, 'ConfigMap')
      .filter((c) => c.metadata.namespace === 'estafette')
      .map((c) => [c.metadata.name, (c.data ?? {}) as Record<string, string>]),
  );

/** The environment a function gets from the production overlay: its ConfigMaps, the Secret, and what Knative sets. */
function productionEnv(secret: Record<string, string>): Record<string, string> {
  const cms = configMaps(renderedObjects('knative/overlays/production'));
  return { ...cms['estafette-config'], ...cms['estafette-builder-defaults'], ...secret, PORT: '8080', K_SERVICE: 'query-api', K_SINK: 'http://broker-ingress.knative-eventing.svc.cluster.local/estafette/estafette' };
}

describe('deploy: every variable production reads is documented', () => {
  before(function () {
    requireKubectl(this);
  });

  it('the doc has the four configuration tables, and the Secret table lists the keys sign-in and the database need', () => {
    for (const h of [SECRET, CONFIG, BUILDER, KNATIVE]) expect(tableKeys(h), h).to.not.be.empty;
    expect(tableKeys(SECRET)).to.include.members(['DATABASE_URL', 'ESTAFETTE_AUTH', 'ESTAFETTE_JWT_KEY', 'ESTAFETTE_SECRET_KEY']);
    expect(tableKeys(KNATIVE)).to.include.members(['PORT', 'K_SERVICE', 'K_SINK']);
  });

  it("each variable the functions' config parser reads is in the Secret, a ConfigMap or the Knative table", () => {
    const read = variablesRead(productionEnv({ ...documentedSecret(), ESTAFETTE_AUTH: JSON.stringify({ clients: [{ id: 'c', secret: 's' }] }) }));
    expect(read.length, 'the Proxy saw the lookups').to.be.greaterThan(20);
    const documented = new Set([SECRET, CONFIG, BUILDER, KNATIVE].flatMap(tableKeys));
    expect(read.filter((v) => !documented.has(v))).to.deep.equal([]);
  });

  it("each key of the manifests' ConfigMaps is in its table, and secrets are only in the Secret table", () => {
    for (const dir of ['knative/base', 'knative/overlays/production']) {
      const cms = configMaps(renderedObjects(dir));
      expect(
        Object.keys(cms['estafette-config']!).filter((k) => !tableKeys(CONFIG).includes(k)),
        `${dir} estafette-config`,
      ).to.deep.equal([]);
      expect(
        Object.keys(cms['estafette-builder-defaults']!).filter((k) => !tableKeys(BUILDER).includes(k)),
        `${dir} estafette-builder-defaults`,
      ).to.deep.equal([]);
    }
    const secretLike = (k: string) => /(SECRET|TOKEN|_KEY$|PASSWORD|CREDENTIALS)/.test(k) || ['DATABASE_URL', 'ESTAFETTE_AUTH'].includes(k);
    const read = variablesRead(productionEnv({ ...documentedSecret(), ESTAFETTE_AUTH: 'off' }));
    expect(
      read.filter(secretLike).filter((k) => !tableKeys(SECRET).includes(k)),
      'secrets documented as Secret keys',
    ).to.deep.equal([]);
    expect([...tableKeys(CONFIG), ...tableKeys(BUILDER)].filter(secretLike), 'no secret in a ConfigMap table').to.deep.equal([]);
  });
});

describe('deploy: the production overlay refuses to run without sign-in', function () {
  this.timeout(60_000);
  before(function () {
    requireKubectl(this);
  });
  const withoutAuth = (): Record<string, string> => {
    const { ESTAFETTE_AUTH: _, ...secret } = documentedSecret();
    return productionEnv(secret);
  };

  it('the config parser raises a ConfigError naming ESTAFETTE_AUTH when it is missing on Knative, and only there', () => {
    const env = withoutAuth();
    expect(() => parseConfig(env)).to.throw(ConfigError, /ESTAFETTE_AUTH: is required on Knative/);
    try {
      parseConfig(env);
    } catch (err) {
      expect((err as ConfigError).variable).to.equal('ESTAFETTE_AUTH');
    }
    // Outside Knative (the local mode, the migration Job) nothing changes.
    const { K_SERVICE: _, ...local } = env;
    expect(parseConfig(local).auth).to.deep.equal({ enabled: false });
    expect(parseConfig({ ...env, ESTAFETTE_AUTH: 'off' }).auth).to.deep.equal({ enabled: false });
    expect(parseConfig({ ...env, ESTAFETTE_AUTH: JSON.stringify({ clients: [{ id: 'ci', secret: 's', role: 'operator' }] }) }).auth.enabled).to.equal(true);
  });

  FUNCTION_NAMES.forEach((name) =>
    it(`${name}: its bundle exits 1 with one line naming ESTAFETTE_AUTH, and starts with ESTAFETTE_AUTH=off`, async () => {
      const env = { ...withoutAuth(), K_SERVICE: name, PORT: String(await freePort()), NATS_URL: undefined, DATABASE_URL: 'postgres://127.0.0.1:1/none', LOG_LEVEL: 'info' };
      const refused = spawnFunction(name, env);
      const code = await new Promise<number | null>((r) => refused.child.once('exit', r));
      expect(code, refused.output()).to.equal(1);
      const lines = refused.output().trim().split('\n');
      expect(lines, refused.output()).to.have.length(1);
      expect(JSON.parse(lines[0]!)).to.deep.include({ level: 'fatal', variable: 'ESTAFETTE_AUTH', function: name });

      const port = await freePort();
      const started = spawnFunction(name, { ...env, PORT: String(port), ESTAFETTE_AUTH: 'off' });
      try {
        await waitForHttp(`http://127.0.0.1:${port}/liveness`);
      } finally {
        await started.stop();
      }
    }),
  );
});
