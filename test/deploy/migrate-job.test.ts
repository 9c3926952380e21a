/**
 * The migration step, repeatable on every deploy. Its command, taken from the rendered manifest
 * and run in the checkout (the image holds the same files; test/deploy/containers.test.ts runs
 * it in the image) against a fresh real PostgreSQL database, creates the schema, and a second
 * run — the next deploy — changes nothing and still succeeds. Its Job can be applied release
 * after release: a Job's pod template is immutable, so the production overlay names it after
 * the release (a new release is a new Job, the same release the same object, which `kubectl
 * apply` leaves alone), and skaffold, whose image tags change with every build, applies with
 * --force, which re-creates a Job it cannot patch.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import pg from 'pg';
import { freshDatabase, requireService } from '../support/services.ts';
import { at, KUBECTL, ofKind, parseDocuments, renderedObjects, requireKubectl, ROOT, type K8sObject } from './documents.ts';

const isMigrate = (j: K8sObject): boolean => j.metadata.labels?.['app.kubernetes.io/name'] === 'estafette-migrate';

describe('deploy: the migration Job', function () {
  this.timeout(60_000);
  let db: { url: string; drop: () => Promise<void> };

  before(async function () {
    requireKubectl(this);
    db = await freshDatabase(await requireService(this, 'postgres'), 'deploy');
  });
  after(async () => db?.drop());

  const command = (): string[] => {
    const job = ofKind(renderedObjects('knative/overlays/dev'), 'Job', 'batch').find(isMigrate);
    return at(job, 'spec', 'template', 'spec', 'containers', 0, 'command') as string[];
  };
  const runJob = () => {
    const [bin, ...args] = command();
    return spawnSync(bin, args, { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url }, encoding: 'utf8', timeout: 50_000 });
  };
  const tables = async (): Promise<string[]> => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const r = await c.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
      return r.rows.map((row) => row.table_name);
    } finally {
      await c.end();
    }
  };

  it('creates the schema, and a second run succeeds without changing it', async () => {
    expect(await tables()).to.deep.equal([]);
    const first = runJob();
    expect(first.status, first.stderr).to.equal(0);
    const created = await tables();
    expect(created).to.include.members(['pipelines', 'builds']);
    const second = runJob();
    expect(second.status, second.stderr).to.equal(0);
    expect(await tables()).to.deep.equal(created);
  });
});

describe('deploy: the migration Job applied release after release', () => {
  before(function () {
    requireKubectl(this);
  });

  /** The production overlay rendered with query-api's image tag set to `tag` (as `kustomize edit set image` does). */
  const renderRelease = (tag: string): K8sObject => {
    const dir = mkdtempSync(join(tmpdir(), 'release-'));
    try {
      cpSync(join(ROOT, 'knative'), join(dir, 'knative'), { recursive: true });
      const file = join(dir, 'knative/overlays/production/kustomization.yaml');
      const k = load(readFileSync(file, 'utf8')) as { images: Array<{ name: string; newTag?: string }> };
      for (const image of k.images) image.newTag = tag;
      writeFileSync(file, dump(k));
      const r = spawnSync(KUBECTL, ['kustomize', join(dir, 'knative/overlays/production')], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(0);
      return parseDocuments(r.stdout, 'release')
        .map((l) => l.object)
        .find((o) => o.kind === 'Job' && isMigrate(o))!;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const template = (j: K8sObject) => at(j, 'spec', 'template') as { spec: { containers: Array<{ image: string }> } };

  it('each release gets its own Job, named after the image tag; the same release renders the same Job twice', () => {
    const a = renderRelease('1.4.0');
    const again = renderRelease('1.4.0');
    const b = renderRelease('1.5.0-rc.1');
    expect(a.metadata.name).to.equal('estafette-migrate-1.4.0');
    expect(b.metadata.name).to.equal('estafette-migrate-1.5.0-rc.1');
    // Re-applying one release: an identical object, nothing to patch.
    expect(again).to.deep.equal(a);
    // The next release: a new object, so the old Job's immutable template is never patched.
    expect(template(b).spec.containers[0]!.image).to.equal('ghcr.io/estafette-knative/query-api:1.5.0-rc.1');
    const strip = (j: K8sObject) => JSON.stringify({ ...j, metadata: { ...j.metadata, name: '' }, spec: { ...(j.spec as object), template: { ...template(j), spec: { ...template(j).spec, containers: [] } } } });
    expect(strip(b)).to.equal(strip(a));
    // A Job name that also makes valid pod names and `job-name` labels.
    for (const j of [a, b]) expect(j.metadata.name).to.match(/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/);
  });

  it('the committed production overlay names its Job after the release it pins', () => {
    const job = ofKind(renderedObjects('knative/overlays/production'), 'Job', 'batch').find(isMigrate)!;
    const tag = String(template(job).spec.containers[0]!.image).split(':').at(-1);
    expect(job.metadata.name).to.equal(`estafette-migrate-${tag}`);
  });

  it('skaffold re-creates the Job its fresh image tags would otherwise patch (kubectl apply --force)', () => {
    const skaffold = load(readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8')) as { deploy: { kubectl: { flags?: { apply?: string[] } } } };
    expect(skaffold.deploy.kubectl.flags?.apply).to.include('--force');
  });
});
