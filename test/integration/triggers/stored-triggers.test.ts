/**
 * The stored form of triggers, on real PostgreSQL: every trigger of the real Estafette manifests
 * that fire-triggers and cron-relay act on (pipeline, release, git, cron; github and bitbucket for bots), stored by dispatch's
 * triggerRows + replaceTriggers and read back, rebuilds into exactly the NormalizedTrigger the
 * manifest gave — defaults, scopes and named triggers included. Plus the derived event ids.
 */
import { expect } from 'chai';
import { derivedEventId, normalizedOf } from '../../../shared/triggers/fire-triggers.ts';
import { triggerRows } from '../../../functions/build-dispatch/manifest-facts.ts';
import { loadManifest } from '../../../shared/manifest/load.ts';
import { allTriggers } from '../../../shared/manifest/triggers.ts';
import { upsertPipeline } from '../../../shared/db/pipelines.ts';
import { listTriggers, replaceTriggers } from '../../../shared/db/triggers.ts';
import { migratedDatabase, type TestDatabase } from '../db/database.ts';
import { requireSharedFixtures, sharedFixtures } from '../../support/shared-fixtures.ts';

const EVALUATED = ['pipeline', 'release', 'git', 'cron', 'github', 'bitbucket'];

const manifests = sharedFixtures()
  .map(({ file, text }) => ({ file, manifest: loadManifest(text).manifest }))
  .filter((x) => x.manifest && allTriggers(x.manifest).some((t) => EVALUATED.includes(t.trigger.filter.kind)));

describe('stored triggers rebuild into NormalizedTriggers', function () {
  let db: TestDatabase;
  before(async function () {
    requireSharedFixtures(this);
    db = await migratedDatabase(this);
  });
  after(async () => db?.close());

  it('the fixtures include triggers of every evaluated kind', () => {
    const kinds = new Set(manifests.flatMap((m) => allTriggers(m.manifest!).map((t) => t.trigger.filter.kind)));
    expect([...kinds]).to.include.members(EVALUATED);
  });

  manifests.forEach(({ file, manifest }) =>
    it(file, async () => {
      const pipeline = await upsertPipeline(db.pool, { repoSource: 'github.com', repoOwner: 'fixtures', repoName: file });
      await replaceTriggers(db.pool, pipeline.id, triggerRows(manifest!));
      const stored = await listTriggers(db.pool, pipeline.id);
      const expected = allTriggers(manifest!)
        .map((t) => t.trigger)
        .filter((t) => EVALUATED.includes(t.filter.kind));
      const rebuilt = stored.map(normalizedOf).filter((t) => t !== undefined);
      expect(rebuilt).to.deep.equal(expected.map((t) => (t.name ? t : (({ name: _n, ...rest }) => rest)(t))));
    }),
  );

  it('derived event ids are UUID-shaped, stable, and differ when any part differs', () => {
    const id = derivedEventId('event-1', '42');
    expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedEventId('event-1', '42')).to.equal(id);
    expect(new Set([id, derivedEventId('event-2', '42'), derivedEventId('event-1', '43'), derivedEventId('event-14', '2')]).size).to.equal(4);
  });
});
