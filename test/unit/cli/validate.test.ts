/**
 * The `estafette validate`, `schema` and `secret` commands, run as a user runs them: a real
 * `node bin/estafette.js` process, checking exit codes, output shapes and the absence of stack traces.
 */
import { expect } from 'chai';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliJson, noStackTrace, REPO_ROOT } from '../../support/cli.ts';

const fixtures = join(REPO_ROOT, 'test/fixtures/manifests');

describe('estafette validate (CLI)', function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'estafette-validate-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('exits 0 for a valid manifest and prints warnings as field (line, column): message', () => {
    const r = cli(['validate', join(fixtures, 'valid.estafette.yaml')]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain("stages.checks.parallelStages.lint.image (line 35, column 9): image 'golangci/golangci-lint:latest' uses the 'latest' tag");
    expect(r.stdout).to.match(/valid, 0 error\(s\), 1 warning\(s\)/);
  });

  it('prints the --json object with stages, releases and trigger count', () => {
    const r = cli(['validate', join(fixtures, 'valid.estafette.yaml'), '--json']);
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({
      valid: true,
      errors: [],
      warnings: [{ field: 'stages.checks.parallelStages.lint.image', message: "image 'golangci/golangci-lint:latest' uses the 'latest' tag; pin a version", line: 35, column: 9 }],
      stages: ['git-clone', 'build', 'checks', 'notify'],
      releases: ['staging', 'production'],
      triggers: 2,
    });
  });

  it('exits 1 and lists every error with its field', () => {
    const r = cli(['validate', join(fixtures, 'invalid.estafette.yaml')]);
    expect(r.code).to.equal(1);
    for (const field of ['stages.build.image', 'stages.group.image', 'stages.deploy.when', 'triggers[0]', 'triggers[1].cron.schedule']) {
      expect(r.stdout).to.match(new RegExp(`^  ${field.replace(/[.[\]]/g, '\\$&')} \\(line \\d+, column \\d+\\): `, 'm'));
    }
    expect(r.stdout).to.match(/invalid, 5 error\(s\)/);
  });

  it('exits 1 with --json for errors, valid false', () => {
    const r = cli(['validate', '--json', join(fixtures, 'invalid.estafette.yaml')]);
    expect(r.code).to.equal(1);
    const out = JSON.parse(r.stdout);
    expect(out.valid).to.equal(false);
    expect(out.errors.map((e: { field: string }) => e.field)).to.have.members(['stages.build.image', 'stages.group.image', 'stages.deploy.when', 'triggers[0]', 'triggers[1].cron.schedule']);
    expect(Object.keys(out)).to.deep.equal(['valid', 'errors', 'warnings', 'stages', 'releases', 'triggers']);
  });

  it('reports a YAML syntax error with line and column', () => {
    const r = cli(['validate', join(fixtures, 'syntax-error.estafette.yaml')]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/YAML syntax error at line \d+, column \d+/);
    noStackTrace(r.stdout + r.stderr);
  });

  it('reports duplicate stage names with the field', () => {
    const r = cli(['validate', '--json', join(fixtures, 'duplicate-stages.estafette.yaml')]);
    expect(r.code).to.equal(1);
    expect(JSON.parse(r.stdout).errors[0]).to.deep.include({ field: 'stages.build' });
  });

  it('defaults to ./.estafette.yaml', () => {
    const dir = join(tmp, 'repo');
    mkdirSync(dir);
    expect(cli(['validate'], { cwd: dir }).code).to.equal(2);
    writeFileSync(join(dir, '.estafette.yaml'), 'stages:\n  a:\n    image: alpine:3\n');
    const r = cli(['validate', '--json'], { cwd: dir });
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.stdout).stages).to.deep.equal(['git-clone', 'a']);
  });

  it('reads stdin with -', () => {
    const r = cli(['validate', '-', '--json'], { input: 'stages:\n  x:\n    image: alpine:3\n' });
    expect(r.code).to.equal(0);
    expect(JSON.parse(r.stdout).stages).to.deep.equal(['git-clone', 'x']);
  });

  const unreadable: Array<[string, () => string, RegExp]> = [
    ['a missing file', () => join(tmp, 'nope.yaml'), /no such file/],
    ['a directory', () => tmp, /is a directory/],
  ];
  unreadable.forEach(([name, path, msg]) =>
    it(`exits 2 without a stack trace for ${name}`, () => {
      const r = cli(['validate', path()]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(msg);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      noStackTrace(r.stderr);
    }),
  );

  it('exits 1 without a stack trace for a binary file', () => {
    const file = join(tmp, 'binary.yaml');
    writeFileSync(file, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0xff, 0xfe]));
    const r = cli(['validate', file]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/not a text file/);
    noStackTrace(r.stdout + r.stderr);
  });

  it('refuses a 50 MB file quickly without reading it all', () => {
    const file = join(tmp, 'huge.yaml');
    writeFileSync(file, Buffer.alloc(50 * 1024 * 1024, 'a'));
    const started = Date.now();
    const r = cli(['validate', '--json', file]);
    expect(r.code).to.equal(1);
    expect(JSON.parse(r.stdout).errors[0].message).to.match(/larger than 1024 KiB/);
    // Generous: process start-up dominates; reading 50 MB through YAML would take far longer.
    expect(Date.now() - started).to.be.lessThan(15_000);
  });

  it('exits 2 on an unknown option', () => {
    const r = cli(['validate', '--yaml']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/unknown option '--yaml'/);
  });
});

describe('estafette validate: positions and hints (issue 21)', function () {
  this.timeout(60_000);
  const problems = (yaml: string) => {
    const { json } = cliJson(['validate', '-', '--json'], { input: yaml });
    return [...json.errors, ...json.warnings] as Array<{ field: string; message: string; line?: number; column?: number; hint?: string }>;
  };
  const at = (list: ReturnType<typeof problems>, field: string) => {
    const p = list.find((x) => x.field === field);
    expect(p, `${field} in ${JSON.stringify(list)}`).to.not.equal(undefined);
    return p!;
  };

  it('points semantic errors at the line and column of their YAML node', () => {
    const list = problems("stages:\n  build:\n    image: golang:1.22\n  test:\n    image: alpine:3\n    when: status = 'x'\n    retries: 99\ntriggers:\n- cron:\n    schedule: '61 * * * *'\n");
    expect(at(list, 'stages.test.when')).to.include({ line: 6, column: 5 });
    expect(at(list, 'stages.test.retries')).to.include({ line: 7, column: 5 });
    expect(at(list, 'triggers[0].cron.schedule')).to.include({ line: 10, column: 5 });
  });

  it('points a missing field at the nearest field that is written, and a list item at its value', () => {
    const list = problems('stages:\n  build:\n    commands:\n    - make\n    services:\n    - name: db\n');
    expect(at(list, 'stages.build.image')).to.include({ line: 2, column: 3 });
    expect(at(list, 'stages.build.services[0].image')).to.include({ line: 6, column: 7 });
  });

  it("hints at an unquoted ': ' in a command", () => {
    const p = at(problems('stages:\n  build:\n    image: a:1\n    commands:\n    - echo result: ok\n'), 'stages.build.commands[0]');
    expect(p).to.include({ line: 5, column: 7 });
    expect(p.hint).to.match(/unquoted ': '.*'echo result: ok'/);
  });

  it("hints at a command that starts with '['", () => {
    expect(at(problems('stages:\n  build:\n    image: a:1\n    commands:\n    - [ -f go.mod ]\n'), 'stages.build.commands[0]').hint).to.match(/starts with '\['.*quote the whole value/);
  });

  it('hints at the same mistakes when YAML cannot even be read', () => {
    const r = cli(['validate', '-'], { input: 'stages:\n  build:\n    image: a:1\n    commands:\n    - [ -f go.mod ] && make\n' });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/YAML syntax error at line 5.*\n {4}hint: a value that starts with '\['/);
  });

  it("warns when ' #' cut a command short, and not for an ordinary trailing comment", () => {
    const list = problems('stages:\n  build:\n    image: a:1\n    commands:\n    - echo "color #fff"\n    - make build # compile\n');
    const p = at(list, 'stages.build.commands[0]');
    expect(p.message).to.match(/cut at ' #'/);
    expect(p.hint).to.contain(`'echo "color #fff"'`);
    expect(list.filter((x) => x.field === 'stages.build.commands[1]')).to.deep.equal([]);
  });

  it('suggests the known key closest to a misspelt one', () => {
    const list = problems('stagez:\n  build:\n    image: a:1\n');
    expect(at(list, 'stagez').hint).to.equal('did you mean `stages`?');
    const stage = problems('stages:\n  build:\n    imgae: golang:1.22\n    comands: [make]\n    workdir: /src\n');
    expect(at(stage, 'stages.build.image').hint).to.match(/did you mean `image`/);
    expect(at(stage, 'stages.build.comands').hint).to.equal('did you mean `commands`?');
    expect(at(stage, 'stages.build.workdir').hint).to.equal('did you mean `workDir`?');
    expect(at(problems('builder:\n  trak: dev\nstages:\n  a:\n    image: a:1\n'), 'builder.trak').hint).to.equal('did you mean `track`?');
  });

  it('leaves extension properties alone', () => {
    const list = problems('stages:\n  bake:\n    image: extensions/docker:stable\n    action: build\n    repositories: [estafette]\n    tags: [x]\n    path: ./publish\n');
    expect(list.filter((p) => p.hint)).to.deep.equal([]);
  });

  it('prints the position and the hint in text output', () => {
    const r = cli(['validate', '-'], { input: 'stages:\n  build:\n    image: a:1\n    commands:\n    - echo result: ok\n' });
    expect(r.stdout).to.contain('  stages.build.commands[0] (line 5, column 7): must be a string, not a mapping\n    hint: ');
  });
});

describe('estafette schema (CLI)', function () {
  this.timeout(30_000);
  it('prints the JSON Schema', () => {
    const r = cli(['schema']);
    expect(r.code).to.equal(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).to.match(/json-schema\.org/);
    expect(Object.keys(schema.properties)).to.include.members(['stages', 'releases', 'triggers', 'version']);
  });
});

describe('estafette secret (CLI)', function () {
  this.timeout(60_000);
  const key = cli(['secret', 'keygen']).stdout.trim();

  it('generates a base64 32-byte key', () => expect(Buffer.from(key, 'base64')).to.have.length(32));

  it('round-trips a value with an allow-list, also through stdin', () => {
    const enc = cli(['secret', 'encrypt', '--allow', 'github.com/o/.*', 'hunter2'], { env: { ESTAFETTE_SECRET_KEY: key } });
    expect(enc.code).to.equal(0);
    expect(enc.stdout).to.match(/^estafette\.secret\([^)]+\)\n$/);
    expect(enc.stdout).not.to.contain('hunter2');
    const dec = cli(['secret', 'decrypt', enc.stdout.trim()], { env: { ESTAFETTE_SECRET_KEY: key } });
    expect(dec).to.include({ code: 0, stdout: 'hunter2\n' });
    expect(dec.stderr).to.contain('github.com/o/.*');
    const viaStdin = cli(['secret', 'encrypt', '-'], { input: 'multi\nline\n', env: { ESTAFETTE_SECRET_KEY: key } });
    expect(cli(['secret', 'decrypt', '-'], { input: viaStdin.stdout, env: { ESTAFETTE_SECRET_KEY: key } }).stdout).to.equal('multi\nline\n');
  });

  it('says clearly when the key is missing or wrong', () => {
    const missing = cli(['secret', 'encrypt', 'x'], { env: { ESTAFETTE_SECRET_KEY: undefined } });
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/ESTAFETTE_SECRET_KEY is not set/);
    const bad = cli(['secret', 'encrypt', 'x'], { env: { ESTAFETTE_SECRET_KEY: 'short' } });
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/32 bytes/);
    const enc = cli(['secret', 'encrypt', 'x'], { env: { ESTAFETTE_SECRET_KEY: key } }).stdout.trim();
    const other = cli(['secret', 'keygen']).stdout.trim();
    const wrong = cli(['secret', 'decrypt', enc], { env: { ESTAFETTE_SECRET_KEY: other } });
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.match(/wrong key or tampered/);
    noStackTrace(missing.stderr + bad.stderr + wrong.stderr);
  });

  it('exits 2 on wrong usage', () => {
    expect(cli(['secret']).code).to.equal(2);
    expect(cli(['secret', 'frobnicate']).code).to.equal(2);
    expect(cli(['secret', 'encrypt'], { env: { ESTAFETTE_SECRET_KEY: key } }).code).to.equal(2);
  });
});
