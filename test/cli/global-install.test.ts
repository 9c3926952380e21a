/**
 * `estafette` installed as a command, as the README tells a user to: `npm install -g <checkout>`
 * and `npm link`, each into a temporary prefix, then run by name from the PATH inside another
 * repository. npm installs a checkout as a link to it, so the command runs this checkout's
 * dist/ (built by the mocha root hook; `--ignore-scripts` skips the postinstall that would
 * rebuild the same files).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCli } from '../support/cli.ts';
import { tempRepo, type TempRepo } from '../support/git-repo.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

const installs: Array<{ name: string; install: (prefix: string) => Promise<unknown> }> = [
  {
    name: 'npm install -g <checkout>',
    install: (prefix) => promisify(execFile)('npm', ['install', '--global', '--prefix', prefix, '--ignore-scripts', '--no-audit', '--no-fund', ROOT], { cwd: tmpdir() }),
  },
  {
    name: 'npm link (in the checkout)',
    install: (prefix) => promisify(execFile)('npm', ['link', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: ROOT, env: { ...process.env, npm_config_prefix: prefix } }),
  },
];

installs.forEach(({ name, install }) =>
  describe(`estafette installed with ${name}`, function () {
    this.timeout(120_000);
    let prefix: string;
    let repo: TempRepo;
    const onPath = () => ({ PATH: `${join(prefix, 'bin')}${delimiter}${process.env.PATH}` });

    before(async () => {
      prefix = mkdtempSync(join(tmpdir(), 'estafette-prefix-'));
      await install(prefix);
      repo = tempRepo('installed-app', 'main', 'someone');
    });
    after(() => {
      rmSync(prefix, { recursive: true, force: true });
      repo?.remove();
    });

    it('is on the PATH as `estafette` and prints its version', async () => {
      const r = await runCli(['--version'], { bin: 'estafette', cwd: repo.dir, env: onPath() });
      expect([r.code, r.stdout]).to.deep.equal([0, `estafette ${pkg.version}\n`]);
    });

    it('validates the .estafette.yaml of the repository it is run in', async () => {
      repo.commit({ '.estafette.yaml': 'stages:\n  build:\n    image: alpine:3.20\n    commands: ["echo hi"]\n' });
      const valid = await runCli(['validate'], { bin: 'estafette', cwd: repo.dir, env: onPath() });
      expect(valid.code, valid.stderr).to.equal(0);
      expect(valid.stdout).to.match(/^\.estafette\.yaml: valid\b/m);
      expect(valid.stderr, 'it runs the built bundle, not the sources').to.equal('');
      writeFileSync(join(repo.dir, '.estafette.yaml'), 'stages:\n  build:\n    commands: ["echo hi"]\n');
      const invalid = await runCli(['validate'], { bin: 'estafette', cwd: repo.dir, env: onPath() });
      expect(invalid.code).to.equal(1);
      expect(invalid.stdout).to.match(/stages\.build\.image\b/);
    });
  }),
);
