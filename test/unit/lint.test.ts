/**
 * `npm run lint` (Biome: lint + format check, biome.jsonc) is part of `npm test` and fails on a
 * violation. Each case runs the package's own `lint` script in a scratch copy of the config (the
 * tree itself is never written), on one file: a clean one passes, every kind of violation fails.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Runs the `lint` script on a folder holding only `file.ts` with `source`; its exit code and output. */
function lint(source: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'estafette-lint-'));
  try {
    cpSync(join(ROOT, 'biome.jsonc'), join(dir, 'biome.jsonc'));
    cpSync(join(ROOT, 'lint'), join(dir, 'lint'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'lint-probe', private: true, scripts: { lint: scripts.lint } }));
    writeFileSync(join(dir, 'file.ts'), source);
    // The config reads .gitignore through git (vcs.useIgnoreFile): the folder is a repository of its own.
    spawnSync('git', ['init', '-q'], { cwd: dir });
    const r = spawnSync('npm', ['run', '--silent', 'lint'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` },
    });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('npm run lint', function () {
  this.timeout(60_000);

  it('runs in npm test before the test suites', () => {
    expect(scripts.test).to.match(/npm run lint && mocha /);
  });

  it('passes a clean, formatted file', () => {
    const r = lint("export const name = (v: unknown): string => (typeof v === 'string' ? v : String(v));\n");
    expect(r.status, r.output).to.equal(0);
  });

  const violations = [
    { name: 'an `as never` cast', source: 'export const f = (v: unknown): string => v as never;\n', says: /as never/ },
    { name: 'an explicit any', source: 'export const f = (v: any): string => String(v);\n', says: /noExplicitAny/ },
    { name: 'a debugger statement', source: 'export function f(): void {\n  debugger;\n}\n', says: /noDebugger/ },
    { name: 'code not formatted (missing semicolon, double quotes)', source: 'export const f = (): string => "x"\n', says: /format/i },
  ];
  violations.forEach((v) =>
    it(`fails on ${v.name}`, () => {
      const r = lint(v.source);
      expect(r.status, r.output).to.not.equal(0);
      expect(r.output).to.match(v.says);
    }),
  );
});
