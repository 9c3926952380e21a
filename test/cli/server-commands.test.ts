/**
 * The client commands against a real `estafette start` process: `trigger` (the server and its
 * token found through the per-user state from inside the repository, the uncommitted-changes
 * warning, the build URL, `--watch` exit codes), `logs` (stored, and `--follow` while the build
 * runs), `builds`; then a server with sign-in on, reached as an API client; and the records
 * `estafette start` keeps about itself, gone once it stops.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../support/cli.ts';
import { tempRepo, type TempRepo } from '../support/git-repo.ts';
import { startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { freshDatabase, requireService } from '../support/services.ts';

const PASSING = `
version:
  semver:
    major: 2
    minor: 0
stages:
  hello:
    image: alpine:3.20
    commands:
    - echo "hello from \${ESTAFETTE_GIT_NAME}"
    - echo "to stderr" 1>&2
`;

const FAILING = `
stages:
  first:
    image: alpine:3.20
    commands: ["echo first"]
  broken:
    image: alpine:3.20
    commands: ["echo about to fail", "exit 3"]
`;

/** Prints five lines, then waits until the test creates the gate file, then prints one more. */
const gated = (gate: string) => `
stages:
  gated:
    image: alpine:3.20
    commands:
    - for i in 1 2 3 4 5; do echo "tick $i"; done
    - while [ ! -f '${gate}' ]; do sleep 0.05; done
    - echo "after the gate"
`;

/** The environment of a user in a repository: nothing set but where their per-user state is. */
const userEnv = (xdg: string, more: Record<string, string | undefined> = {}) => ({
  XDG_STATE_HOME: xdg,
  ESTAFETTE_URL: undefined,
  ESTAFETTE_WEBHOOK_TOKEN: undefined,
  ESTAFETTE_STATE_DIR: undefined,
  ESTAFETTE_CLIENT_ID: undefined,
  ESTAFETTE_CLIENT_SECRET: undefined,
  ...more,
});

/** A database for one system: a fresh one on the PostgreSQL server when there is one, else the embedded default. */
async function database(ctx: Mocha.Context): Promise<{ env: Record<string, string | undefined>; drop?: () => Promise<void> }> {
  if (!process.env.DATABASE_URL && process.env.REQUIRE_SERVICES !== '1') return { env: { DATABASE_URL: undefined } };
  const db = await freshDatabase(await requireService(ctx, 'postgres'), 'cli');
  return { env: { DATABASE_URL: db.url }, drop: db.drop };
}

const pipelineOf = (r: TempRepo) =>
  r.dir
    .split('/')
    .slice(-3)
    .join('/')
    .replace(/^[^/]+/, 'local');

describe('estafette trigger, logs and builds against a running estafette start', function () {
  this.timeout(180_000);
  let sys: LocalSystem;
  let xdg: string;
  let drop: (() => Promise<void>) | undefined;
  const repos: TempRepo[] = [];
  const repo = (name: string, files: Record<string, string>) => {
    const r = tempRepo(name, 'main', 'cliteam');
    r.commit(files, `add ${name}`);
    repos.push(r);
    return r;
  };
  const cli = (r: TempRepo, args: string[], more?: Record<string, string | undefined>, onStdout?: (s: string) => void): Promise<CliResult> =>
    runCli(args, { cwd: r.dir, env: userEnv(xdg, more), timeoutMs: 120_000, ...(onStdout ? { onStdout } : {}) });

  before(async function () {
    xdg = mkdtempSync(join(tmpdir(), 'estafette-xdg-'));
    const db = await database(this);
    drop = db.drop;
    sys = await startLocalSystem({ env: { ...db.env, NATS_URL: undefined, XDG_STATE_HOME: xdg } });
  });
  after(async () => {
    await sys?.stop();
    for (const r of repos) r.remove();
    rmSync(xdg, { recursive: true, force: true });
    await drop?.();
  });

  it('trigger --watch, from inside the repository, finds the server, warns about uncommitted changes, prints the build URL and the log, exits 0', async () => {
    const r = repo('passing-app', { '.estafette.yaml': PASSING });
    writeFileSync(join(r.dir, 'notes.txt'), 'not committed');
    const res = await cli(r, ['trigger', '--watch']);
    expect(res.code, res.stdout + res.stderr).to.equal(0);
    expect(res.stderr).to.match(/^warning: uncommitted changes are not part of the build, which builds the last commit: notes\.txt$/m);
    const builds = (await sys.api(`/api/pipelines/${pipelineOf(r)}/builds`)).body.items as any[];
    expect(builds.map((b) => [b.buildNumber, b.buildStatus])).to.deep.equal([[1, 'succeeded']]);
    expect(res.stdout).to.contain(`build 1 (2.0.1): ${sys.url}/pipelines/${pipelineOf(r)}/builds/${builds[0].id}\n`);
    expect(res.stdout).to.match(/▶ hello\n {2}> echo "hello from \$\{ESTAFETTE_GIT_NAME\}"\n {2}hello from passing-app\n {2}> echo "to stderr" 1>&2\n {2}to stderr\n/);
    expect(res.stdout).to.match(/\nbuild succeeded\n$/);
  });

  it('trigger --watch exits 1 when the build fails, without a warning for a clean tree', async () => {
    const r = repo('failing-app', { '.estafette.yaml': FAILING });
    const res = await cli(r, ['trigger', '-w']);
    expect(res.code, res.stdout + res.stderr).to.equal(1);
    expect(res.stderr).to.not.contain('uncommitted');
    expect(res.stdout).to.match(/✘ broken failed \S+ — exit code 3/);
    expect(res.stdout).to.match(/\nbuild failed\n$/);
  });

  it('logs --follow streams a running build live and exits with its result; logs prints the stored log', async () => {
    const gate = join(mkdtempSync(join(tmpdir(), 'estafette-gate-')), 'open');
    const r = repo('gated-app', { '.estafette.yaml': gated(gate) });
    const triggered = await cli(r, ['trigger']);
    expect(triggered.code, triggered.stderr).to.equal(0);
    expect(triggered.stdout).to.match(/^build 1 \(0\.0\.1\): http:\/\/\S+\/builds\/\d+$/m);
    // The gate opens only once the follower has printed the first lines: they came live.
    const follow = await cli(r, ['logs', pipelineOf(r), '--follow'], {}, (out) => {
      if (out.includes('tick 5') && !existsSync(gate)) writeFileSync(gate, '');
    });
    expect(follow.code, follow.stdout + follow.stderr).to.equal(0);
    const output = follow.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => !l.startsWith('>'));
    expect(output.filter((l) => /tick \d|after the gate/.test(l))).to.deep.equal(['tick 1', 'tick 2', 'tick 3', 'tick 4', 'tick 5', 'after the gate']);
    expect(follow.stdout).to.match(/✔ gated succeeded/);

    const stored = await cli(r, ['logs', 'cliteam/gated-app', '1', '--stage', 'gated']);
    expect(stored.code, stored.stderr).to.equal(0);
    expect(stored.stdout).to.match(/^▶ gated\n/);
    expect(stored.stdout).to.contain('  after the gate\n');
    expect(stored.stdout).to.not.contain('git-clone');
    expect(stored.stdout).to.match(/\nbuild succeeded\n$/);
  });

  it('logs --follow of a finished failed build exits 1; an unknown build or pipeline is one clear line and exit 1', async () => {
    const r = repos.find((x) => x.dir.endsWith('failing-app'))!;
    const follow = await cli(r, ['logs', pipelineOf(r), '--follow']);
    expect(follow.code).to.equal(1);
    expect(follow.stdout).to.contain('  about to fail\n');
    const missing = await cli(r, ['logs', pipelineOf(r), '7']);
    expect([missing.code, missing.stderr]).to.deep.equal([1, `estafette logs: ${pipelineOf(r)} has no build 7 (the latest is 1)\n`]);
    const nowhere = await cli(r, ['builds', 'local/cliteam/no-such-app']);
    expect([nowhere.code, nowhere.stderr]).to.deep.equal([1, 'estafette builds: pipeline local/cliteam/no-such-app not found\n']);
  });

  it('builds lists a pipeline newest first, filters by status and prints JSON', async () => {
    const r = repos.find((x) => x.dir.endsWith('failing-app'))!;
    r.commit({ '.estafette.yaml': PASSING }, 'fix the build\n\nlonger text');
    expect((await cli(r, ['trigger', '--watch'])).code).to.equal(0);
    const table = await cli(r, ['builds', pipelineOf(r)]);
    expect(table.code, table.stderr).to.equal(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).to.match(/^#\s+VERSION\s+BRANCH\s+COMMIT\s+STATUS\s+STARTED\s+DURATION\s+TRIGGER\s+MESSAGE$/);
    expect(rows.slice(1).map((l) => l.split(/\s{2,}/).filter((_, i) => [0, 2, 4, 7].includes(i)))).to.deep.equal([
      ['2', 'main', 'succeeded', 'git'],
      ['1', 'main', 'failed', 'git'],
    ]);
    expect(rows[1]).to.match(/fix the build$/);
    const failed = await cli(r, ['builds', pipelineOf(r), '--status', 'failed', '--json']);
    expect((JSON.parse(failed.stdout) as any[]).map((b) => b.buildNumber)).to.deep.equal([1]);
  });

  it('sends the local token only to the server that recorded it', async () => {
    const r = repos[0]!;
    const same = await cli(r, ['trigger'], { ESTAFETTE_URL: sys.url });
    expect(same.code, same.stderr).to.equal(0);
    // The same port under another name is, for all the CLI knows, another server.
    const other = await cli(r, ['trigger'], { ESTAFETTE_URL: sys.url.replace('localhost', '127.0.0.1') });
    expect(other.code).to.equal(2);
    expect(other.stderr).to.match(/^estafette trigger: no webhook token for http:\/\/127\.0\.0\.1:\d+: set ESTAFETTE_WEBHOOK_TOKEN/);
  });
});

describe('estafette builds, logs and trigger against a server with sign-in on', function () {
  this.timeout(180_000);
  let sys: LocalSystem;
  let xdg: string;
  let r: TempRepo;
  let drop: (() => Promise<void>) | undefined;
  const auth = { clients: [{ id: 'cli-test', secret: 'a-long-client-secret', role: 'viewer' }] };
  const client = { ESTAFETTE_CLIENT_ID: 'cli-test', ESTAFETTE_CLIENT_SECRET: 'a-long-client-secret' };
  const cli = (args: string[], more?: Record<string, string | undefined>) => runCli(args, { cwd: r.dir, env: userEnv(xdg, more), timeoutMs: 120_000 });

  before(async function () {
    xdg = mkdtempSync(join(tmpdir(), 'estafette-xdg-'));
    const db = await database(this);
    drop = db.drop;
    sys = await startLocalSystem({ env: { ...db.env, NATS_URL: undefined, XDG_STATE_HOME: xdg, ESTAFETTE_AUTH: JSON.stringify(auth) } });
    r = tempRepo('signed-app', 'main', 'authteam');
    r.commit({ '.estafette.yaml': PASSING });
  });
  after(async () => {
    await sys?.stop();
    r?.remove();
    rmSync(xdg, { recursive: true, force: true });
    await drop?.();
  });

  it('trigger without an API client still triggers (the webhook token suffices) and says where the build appears', async () => {
    const res = await cli(['trigger']);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.contain(`the build appears at ${sys.url}/pipelines/local/authteam/signed-app (`);
    expect(res.stdout).to.contain('set ESTAFETTE_CLIENT_ID and ESTAFETTE_CLIENT_SECRET');
  });

  it('builds says which variables to set without an API client, refuses a wrong secret, and lists with the right one', async () => {
    const without = await cli(['builds', 'local/authteam/signed-app']);
    expect(without.code).to.equal(1);
    expect(without.stderr).to.match(/has sign-in on: set ESTAFETTE_CLIENT_ID and ESTAFETTE_CLIENT_SECRET/);
    const wrong = await cli(['builds', 'local/authteam/signed-app'], { ...client, ESTAFETTE_CLIENT_SECRET: 'not-the-secret' });
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.match(/refused the API client ESTAFETTE_CLIENT_ID=cli-test: unknown client or wrong secret/);
    expect(wrong.stderr).to.not.contain('not-the-secret');
    const right = await cli(['builds', 'local/authteam/signed-app', '--json'], client);
    expect(right.code, right.stderr).to.equal(0);
    expect((JSON.parse(right.stdout) as any[]).map((b) => b.buildNumber)).to.deep.equal([1]);
  });

  it('trigger --watch and logs --follow sign in as the API client and exit 0 for a passing build', async () => {
    const watch = await cli(['trigger', '--watch'], client);
    expect(watch.code, watch.stdout + watch.stderr).to.equal(0);
    expect(watch.stdout).to.contain('  hello from signed-app\n');
    const follow = await cli(['logs', 'local/authteam/signed-app', '--follow'], client);
    expect(follow.code, follow.stderr).to.equal(0);
    expect(follow.stdout).to.contain('  hello from signed-app\n');
  });

  it('estafette start records its URL and token while it runs (owner-readable only) and removes the records when it stops', async () => {
    const record = join(sys.stateDir, 'server.json');
    const pointer = join(xdg, 'estafette', 'last-start.json');
    expect(JSON.parse(readFileSync(record, 'utf8'))).to.include({ url: sys.url, webhookToken: sys.token, pid: sys.child.pid });
    expect(statSync(record).mode & 0o077).to.equal(0);
    expect(JSON.parse(readFileSync(pointer, 'utf8'))).to.deep.equal({ stateDir: sys.stateDir, pid: sys.child.pid });
    expect(await sys.stop()).to.equal(0);
    expect(existsSync(record), 'server.json').to.equal(false);
    expect(existsSync(pointer), 'last-start.json').to.equal(false);
  });
});
