/**
 * Config in one place: every environment variable the code reads is parsed by
 * shared/config/config.ts (nothing else touches the environment), declared in its VARIABLES
 * list, and listed in README.md's configuration table — which is exactly
 * `configurationTable()`. Other branches add variables too, so each failure says what to add
 * where.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builderEnv, configurationTable, inheritedEnv, isDebug, parseBuilderSettings, parseCliConfig, parseConfig, VARIABLES } from '../../../shared/config/config.ts';
import { ConfigError } from '../../../shared/errors/http-error.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CONFIG = 'shared/config/config.ts';
/** The product's code (tests, benchmarks and the web UI's dev tooling are not). */
const SCANNED = ['shared', 'functions', 'builder', 'cli', 'scripts', 'bin'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(name) ? [path] : [];
  });
}

/** Reads of the environment in one file's text: `process.env.X`, `process.env[…]`, `env.X`, `env['X']` (assignments to a stage's env excluded). */
function environmentReads(text: string): Array<{ line: number; what: string }> {
  const found: Array<{ line: number; what: string }> = [];
  text.split('\n').forEach((l, i) => {
    const code = l.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
    for (const m of code.matchAll(/process\.env(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[([^\]]*)\])/g)) found.push({ line: i + 1, what: m[1] ?? m[2]! });
    if (/\{[^}]*\}\s*=\s*process\.env\b/.test(code)) found.push({ line: i + 1, what: 'destructured process.env' });
    for (const m of code.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)(?![A-Za-z0-9_])|\[['"`]([A-Z][A-Z0-9_]*)['"`]\])(?!\s*\??=(?!=))/g)) found.push({ line: i + 1, what: (m[1] ?? m[2])! });
  });
  return found;
}

const declared = new Set(VARIABLES.flatMap((v) => v.names));
const isDeclared = (name: string): boolean => declared.has(name) || (name.startsWith('LC_') && declared.has('LC_*'));

/** An environment that records which variables are read (by name, or all of them by listing). */
function recordingEnv(values: Record<string, string>): { env: NodeJS.ProcessEnv; read: Set<string> } {
  const read = new Set<string>();
  const env = new Proxy({ ...values } as NodeJS.ProcessEnv, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return target[key as string];
    },
    ownKeys(target) {
      read.add('LC_*'); // listed: LC_* variables are read by their prefix
      return Reflect.ownKeys(target);
    },
  });
  return { env, read };
}

describe('configuration in one place', () => {
  it('nothing outside shared/config/config.ts reads an environment variable', () => {
    const problems: string[] = [];
    for (const dir of SCANNED) {
      for (const file of sourceFiles(join(ROOT, dir))) {
        const rel = relative(ROOT, file);
        if (rel === CONFIG) continue;
        for (const r of environmentReads(readFileSync(file, 'utf8'))) problems.push(`${rel}:${r.line} reads ${r.what}`);
      }
    }
    expect(
      problems,
      [
        'Environment variables are read only by shared/config/config.ts. For each line below:',
        '  1. declare the variable in VARIABLES (shared/config/config.ts) with its default and meaning,',
        '  2. parse it in parseConfig / parseBuilderSettings / parseCliConfig (typed, default, ConfigError naming it),',
        '  3. use the parsed value at that line instead, and paste configurationTable() into README.md (see the README test).',
        ...problems.map((p) => `  - ${p}`),
      ].join('\n'),
    ).to.deep.equal([]);
  });

  it('every variable the parsers read is declared in VARIABLES, and every declared one is read', () => {
    const values: Record<string, string> = { PATH: '/bin', HOME: '/root', LC_ALL: 'C', LANG: 'C', LANGUAGE: 'en' };
    const { env, read } = recordingEnv(values);
    parseConfig(env);
    parseBuilderSettings(env);
    parseCliConfig(env);
    inheritedEnv(env);
    builderEnv(env);
    isDebug(env);
    const undeclared = [...read].filter((n) => /^[A-Z][A-Z0-9_]*$/.test(n) && !isDeclared(n)).sort();
    expect(undeclared, `read by shared/config/config.ts but missing from its VARIABLES list — add a row for each: ${undeclared.join(', ')}`).to.deep.equal([]);
    const unread = [...declared].filter((n) => !read.has(n)).sort();
    expect(unread, `declared in VARIABLES but parsed nowhere in shared/config/config.ts — parse them or remove their rows: ${unread.join(', ')}`).to.deep.equal([]);
  });

  it("README.md's configuration table is configurationTable()", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
    const start = readme.indexOf('| variable | default | meaning |');
    expect(start, 'README.md has no configuration table (a line "| variable | default | meaning |")').to.be.greaterThan(-1);
    let end = start;
    while (end < readme.length && readme[end]!.startsWith('|')) end++;
    const actual = readme.slice(start, end);
    const expected = configurationTable().split('\n');
    const missing = expected.filter((r) => !actual.includes(r));
    const extra = actual.filter((r) => !expected.includes(r));
    expect(
      actual,
      [
        "README.md's configuration table differs from VARIABLES in shared/config/config.ts.",
        ...(missing.length ? ['Rows to add (or correct) in README.md:', ...missing.map((r) => `  ${r}`)] : []),
        ...(extra.length ? ['Rows in README.md that VARIABLES does not have (remove, or declare them in VARIABLES):', ...extra.map((r) => `  ${r}`)] : []),
        'The whole table, in order, is:',
        configurationTable(),
      ].join('\n'),
    ).to.deep.equal(expected);
  });

  const bad: Array<{ name: string; env: Record<string, string>; parse: (env: NodeJS.ProcessEnv) => unknown; variable: string }> = [
    { name: 'a port that is not a number', env: { PORT: 'eighty' }, parse: parseConfig, variable: 'PORT' },
    { name: 'a log level of the builder that pino has not', env: { LOG_LEVEL: 'loud' }, parse: parseBuilderSettings, variable: 'LOG_LEVEL' },
    { name: 'an OTLP endpoint that is not a URL', env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, parse: parseConfig, variable: 'OTEL_EXPORTER_OTLP_ENDPOINT' },
    { name: 'an executor the CLI does not know', env: { ESTAFETTE_EXECUTOR: 'podman' }, parse: parseCliConfig, variable: 'ESTAFETTE_EXECUTOR' },
    { name: 'a trigger URL that is not http(s)', env: { ESTAFETTE_URL: 'ftp://x' }, parse: parseCliConfig, variable: 'ESTAFETTE_URL' },
  ];
  bad.forEach((c) =>
    it(`refuses ${c.name} with a ConfigError naming ${c.variable}`, () => {
      expect(() => c.parse(c.env))
        .to.throw(ConfigError)
        .with.property('variable', c.variable);
    }),
  );

  it('builders get only the inherited base and their own variables of the environment', () => {
    const env = builderEnv({ PATH: '/bin', HOME: '/h', LC_ALL: 'C', ESTAFETTE_SECRET_KEY: 'k', DOCKER_HOST: 'unix:///d.sock', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', NATS_URL: 'nats://u:p@h' });
    expect(env).to.deep.equal({ PATH: '/bin', HOME: '/h', LC_ALL: 'C', DOCKER_HOST: 'unix:///d.sock', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' });
  });
});
