/**
 * What every `estafette` command answers the same way, run as real processes: `--version`,
 * `--help` / `-h` and `estafette help <command>` (exit 0, the usage on stdout), and an unknown
 * option or a stray argument (exit 2, the message and the usage on stderr, nothing started).
 * The commands are read from `estafette help`, so a command added later is held to it too.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('estafette: version, help and usage of every command', function () {
  this.timeout(120_000);
  let commands: string[] = [];

  before(async () => {
    const r = await runCli(['help']);
    expect(r.code).to.equal(0);
    commands = [...r.stdout.matchAll(/^ {2}([a-z][a-z-]*) {2,}\S/gm)].map((m) => m[1]!);
  });

  it('lists every command with a summary in `estafette help`', () => {
    expect(commands).to.include.members(['builds', 'logs', 'migrate', 'run', 'schema', 'secret', 'start', 'trigger', 'validate']);
  });

  it('prints the package version for --version', async () => {
    const r = await runCli(['--version']);
    expect([r.code, r.stdout, r.stderr]).to.deep.equal([0, `estafette ${pkg.version}\n`, '']);
  });

  it('answers a bare `estafette` with the overview on stderr and exit 2, an unknown command with exit 2', async () => {
    const bare = await runCli([]);
    expect(bare.code).to.equal(2);
    expect(bare.stderr).to.match(/^usage: estafette <command>/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.equal("estafette: unknown command 'frobnicate' (see 'estafette help')\n");
  });

  it('answers --help, -h and `help <command>` for every command with its usage on stdout and exit 0', async () => {
    for (const c of commands) {
      const long = await runCli([c, '--help']);
      expect(long.code, `${c} --help: ${long.stderr}`).to.equal(0);
      expect(long.stdout, `${c} --help`).to.match(new RegExp(`^estafette ${c}: .+\\n\\nusage: estafette ${c}\\b`));
      expect(long.stderr, `${c} --help`).to.equal('');
      const short = await runCli([c, '-h']);
      expect([short.code, short.stdout], `${c} -h`).to.deep.equal([0, long.stdout]);
      const viaHelp = await runCli(['help', c]);
      expect([viaHelp.code, viaHelp.stdout], `help ${c}`).to.deep.equal([0, long.stdout]);
    }
  });

  it('answers an unknown option of every command with the message, its usage and exit 2', async () => {
    for (const c of commands) {
      const r = await runCli([c, '--no-such-option']);
      expect(r.code, `${c} --no-such-option: ${r.stdout}${r.stderr}`).to.equal(2);
      expect(r.stderr, c).to.match(new RegExp(`^estafette ${c}: unknown option '--no-such-option'\\nusage: estafette ${c}\\b`));
      expect(r.stdout, c).to.equal('');
      expect(r.stderr, c).to.not.match(/\n\s+at .+:\d+:\d+/);
    }
  });

  const mistakes: Array<{ name: string; args: string[]; stderr: RegExp }> = [
    { name: 'a stray argument', args: ['schema', 'extra'], stderr: /^estafette schema: unexpected argument 'extra'\nusage: estafette schema/ },
    { name: 'a missing required argument', args: ['builds'], stderr: /^estafette builds: missing PIPELINE\nusage: estafette builds PIPELINE/ },
    { name: 'an option without its value', args: ['trigger', '--branch'], stderr: /^estafette trigger: option '--branch' needs a value\nusage:/ },
    { name: 'a value for a flag', args: ['validate', '--json=yes'], stderr: /^estafette validate: option '--json' takes no value\nusage:/ },
    {
      name: 'a value outside its choices',
      args: ['builds', 'local/o/r', '--status', 'green'],
      stderr: /^estafette builds: --status must be one of pending, running, succeeded, failed, canceling, canceled, queued, awaiting-approval, not 'green'/,
    },
    { name: 'a limit that is not a number', args: ['builds', 'local/o/r', '--limit', 'lots'], stderr: /^estafette builds: --limit must be a whole number from 1 to 100, not 'lots'/ },
    // A branch is given to git (and to the server) only when git would take it as a ref name.
    {
      name: 'trigger with a branch git would read as an option',
      args: ['trigger', '--branch=--upload-pack=touch /tmp/pwned'],
      stderr: /^estafette trigger: --branch "--upload-pack=touch \/tmp\/pwned" is not a valid git branch name\n$/,
    },
    { name: 'run with a branch git refuses', args: ['run', '--branch', 'a..b'], stderr: /^estafette run: --branch "a\.\.b" is not a valid git branch name\n$/ },
    { name: 'an unknown subcommand', args: ['secret', 'shred'], stderr: /^estafette secret: unknown subcommand 'shred'\nusage: estafette secret encrypt/ },
  ];
  it('trigger refuses a folder outside git, and a repository without a commit, before it looks for a server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'estafette-nogit-'));
    try {
      writeFileSync(join(dir, '.estafette.yaml'), 'stages: {}\n');
      const env = { ESTAFETTE_WEBHOOK_TOKEN: 'unused', GIT_CEILING_DIRECTORIES: tmpdir() };
      const outside = await runCli(['trigger', dir], { env });
      expect([outside.code, outside.stderr]).to.deep.equal([2, `estafette trigger: ${dir} is not in a git repository: trigger builds a commit ('estafette run' runs a working tree)\n`]);
      execFileSync('git', ['init', '-q', dir]);
      const empty = await runCli(['trigger', dir], { env });
      expect([empty.code, empty.stderr]).to.deep.equal([2, `estafette trigger: ${dir} has no commit yet: trigger builds a commit ('estafette run' runs a working tree)\n`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  mistakes.forEach((m) =>
    it(`exits 2 with the usage for ${m.name}`, async () => {
      const r = await runCli(m.args);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(m.stderr);
    }),
  );
});
