/**
 * Properties of manifest reading (fast-check; seed and runs in test/support/property.ts): on any
 * text loadManifest never throws and reports well-formed problems; on any YAML mapping every
 * problem names the field it is about (a path under a key that is written, or `stages` when none
 * are) with the line and column of that key; a manifest that lints clean always compiles.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { dump } from 'js-yaml';
import { readFileSync } from 'node:fs';
import { compilePlan } from '../../shared/manifest/compile.ts';
import { buildRun } from '../../shared/manifest/build-run.ts';
import { loadManifest } from '../../shared/manifest/load.ts';
import type { Problem } from '../../shared/manifest/types.ts';
import { propertyParams } from '../support/property.ts';

const valid = readFileSync(new URL('../fixtures/manifests/valid.estafette.yaml', import.meta.url), 'utf8');

const wellFormed = (p: Problem): void => {
  expect(p.field).to.be.a('string');
  expect(p.message).to.be.a('string').and.not.equal('');
  expect(['error', 'warning']).to.include(p.severity);
  if (p.line !== undefined) {
    expect(p.line).to.be.greaterThanOrEqual(1);
    expect(p.column).to.be.greaterThanOrEqual(1);
  }
};

/** Scalars YAML and manifests are made of, including the awkward ones. */
const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', ' ', 'true', 'null', '~', '0', '-1', '1e23', '{{auto}}', '{{branch}}', "status == 'succeeded'", 'estafette.secret(x)', ': ', ' #', '[', '*a'),
  fc.integer(),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small', maxDepth: 4 }, scalar, tie('list'), tie('map')),
  list: fc.array(tie('any'), { maxLength: 4 }),
  map: fc.dictionary(
    fc.oneof(
      fc.constantFrom(
        'image',
        'commands',
        'when',
        'env',
        'services',
        'parallelStages',
        'name',
        'retries',
        'timeout',
        'readiness',
        'shell',
        'track',
        'os',
        'semver',
        'major',
        'custom',
        'labelTemplate',
        'pipeline',
        'cron',
        'status',
        'releases',
        'target',
      ),
      fc.string({ maxLength: 8 }),
    ),
    tie('any'),
    { maxKeys: 5 },
  ),
})).any;

const TOP = ['archived', 'builder', 'labels', 'version', 'env', 'triggers', 'stages', 'pipelines', 'releases', 'releaseTemplates', 'bots'];
/** A mapping shaped like a manifest: known top-level keys (and some unknown), values of any shape. */
const manifestLike = fc.dictionary(fc.oneof(fc.constantFrom(...TOP), fc.string({ minLength: 1, maxLength: 8 })), value, { minKeys: 1, maxKeys: 6 });

/** Whether a field path lies under one of the document's keys (keys may hold '.' or '[' themselves). */
const underAKey = (field: string, doc: object): boolean => Object.keys(doc).some((k) => field === k || field.startsWith(`${k}.`) || field.startsWith(`${k}[`));

describe('property: reading manifests', () => {
  it('never throws on any text, and every problem is well formed', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400, unit: 'binary' }), (text) => {
        const r = loadManifest(text);
        [...r.errors, ...r.warnings].forEach(wellFormed);
      }),
      propertyParams(),
    );
  });

  it('never throws on a real manifest cut, spliced or sprinkled with YAML syntax', () => {
    const edit = fc.record({
      at: fc.nat({ max: valid.length }),
      cut: fc.nat({ max: 40 }),
      insert: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(':', ': ', ' #', '- ', '\n', '\t', '  ', '[', '{', '&a', '*a', '|', '"', "'", '<<: *a')),
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 5 }), (edits) => {
        let text = valid;
        for (const e of edits) text = text.slice(0, e.at) + e.insert + text.slice(e.at + e.cut);
        const r = loadManifest(text);
        [...r.errors, ...r.warnings].forEach(wellFormed);
      }),
      propertyParams(),
    );
  });

  it('on any YAML mapping, every problem names a field path under a written key, with its line', () => {
    fc.assert(
      fc.property(manifestLike, (doc) => {
        const text = dump(doc, { lineWidth: -1 });
        const r = loadManifest(text);
        for (const p of [...r.errors, ...r.warnings]) {
          wellFormed(p);
          expect(p.field, JSON.stringify(p)).to.not.equal('');
          // The one finding about something absent at the top: no stages at all.
          if (!underAKey(p.field, doc)) {
            expect(p.field, JSON.stringify(p)).to.equal('stages');
            continue;
          }
          expect(p.line, JSON.stringify(p)).to.be.a('number');
        }
      }),
      propertyParams(),
    );
  });

  it('a manifest that lints without errors always compiles, every stage named in its env', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    const stage = fc.record({
      image: fc.constantFrom('alpine:3.19', 'golang:1.22', 'extensions/docker:stable'),
      commands: fc.option(fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }), { nil: undefined }),
      when: fc.option(fc.constantFrom("status == 'succeeded'", "status == 'failed'", "branch == 'main' && status == 'succeeded'", ''), { nil: undefined }),
      env: fc.option(fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/), fc.string({ maxLength: 10 }), { maxKeys: 3 }), { nil: undefined }),
      retries: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
    });
    const manifest = fc.record({
      version: fc.option(fc.record({ semver: fc.record({ major: fc.nat(), minor: fc.nat(), labelTemplate: fc.constantFrom('{{branch}}', '{{branch}}-{{auto}}', '{{revision}}', '') }) }), { nil: undefined }),
      stages: fc.dictionary(name, stage, { minKeys: 1, maxKeys: 5 }),
    });
    fc.assert(
      fc.property(manifest, fc.string({ maxLength: 30 }), fc.nat(), (m, branch, counter) => {
        const text = dump(JSON.parse(JSON.stringify(m)), { lineWidth: -1 });
        const r = loadManifest(text);
        expect(r.errors, text).to.deep.equal([]);
        const plan = compilePlan(r.manifest!, buildRun(r.manifest!, { repoSource: 'github.com', repoOwner: 'o', repoName: 'r', branch, revision: 'a'.repeat(40), counter }));
        expect(plan.stages.map((s) => s.name)).to.deep.equal(['git-clone', ...Object.keys(m.stages).filter((k) => k !== 'git-clone')].filter((v, i, a) => a.indexOf(v) === i));
        for (const s of plan.stages) expect(s.env.ESTAFETTE_STAGE_NAME).to.equal(s.name);
      }),
      propertyParams(0.5),
    );
  });
});
