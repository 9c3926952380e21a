/**
 * `estafette start` runs what production runs: the CLI from its bundle (dist/cli.mjs) and every
 * local build's builder from dist/builder.mjs with plain `node` — no TypeScript loader in any
 * process it starts — and it does so from any working directory.
 */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushRepo, startLocalSystem, type LocalSystem } from '../support/local-system.ts';
import { tempRepo, type TempRepo } from '../support/git-repo.ts';
import { freshDatabase, requireService } from '../support/services.ts';
import { descendants, waitFor } from '../support/processes.ts';

const LONG = 'stages:\n  sleeper:\n    image: alpine:3.20\n    commands:\n    - echo "started"\n    - sleep 30\n';

describe('estafette start runs the bundles, from any directory', function () {
  this.timeout(120_000);
  let sys: LocalSystem;
  let repo: TempRepo;
  let cwd: string;
  let drop: (() => Promise<void>) | undefined;

  before(async function () {
    const env: Record<string, string | undefined> = { NATS_URL: undefined, DATABASE_URL: undefined };
    if (process.env.DATABASE_URL || process.env.REQUIRE_SERVICES === '1') {
      const db = await freshDatabase(await requireService(this, 'postgres'), 'e2eart');
      env.DATABASE_URL = db.url;
      drop = db.drop;
    }
    cwd = mkdtempSync(join(tmpdir(), 'estafette-elsewhere-'));
    sys = await startLocalSystem({ env, cwd });
    repo = tempRepo('artifacts', 'main', 'bundles');
  });
  after(async () => {
    await sys?.stop();
    repo?.remove();
    await drop?.();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it('serves from dist/cli.mjs without saying it fell back to the sources', () => {
    expect(sys.output()).to.not.match(/running them through tsx|not built/);
  });

  it('a local build runs dist/builder.mjs under plain node, nothing with tsx', async () => {
    expect((await pushRepo(sys, repo.dir, 'main', repo.commit({ '.estafette.yaml': LONG }))).status).to.equal(202);
    const builder = await waitFor('the builder process', () => descendants(sys.child.pid!).find((p) => p.argv.some((a) => a.endsWith('dist/builder.mjs'))), 30_000, 100);
    expect(builder.argv[0]).to.equal(process.execPath);
    const all = descendants(sys.child.pid!);
    expect(all.filter((p) => p.argv.some((a) => /tsx/.test(a))).map((p) => p.argv.join(' '))).to.deep.equal([]);
    // The builder's config and work dir are in a temp dir, not in the directory it was started from.
    expect(readdirSync(cwd)).to.deep.equal([]);
  });
});
