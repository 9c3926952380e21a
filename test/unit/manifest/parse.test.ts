import { expect } from 'chai';
import { parseManifest, MAX_MANIFEST_BYTES } from '../../../shared/manifest/parse.ts';
import type { Problem } from '../../../shared/manifest/types.ts';

const errorsOf = (problems: Problem[]) => problems.filter((p) => p.severity === 'error');

describe('parseManifest', () => {
  it('reads stages in order, with custom properties and the legacy pipelines key', () => {
    const { manifest, problems } = parseManifest('pipelines:\n  b:\n    image: alpine:3\n    foo: bar\n  a:\n    image: alpine:3\n    commands: [ls]\n');
    expect(problems).to.deep.equal([]);
    expect(manifest!.stages.map((s) => s.name)).to.deep.equal(['b', 'a']);
    expect(manifest!.stages[0]!.customProperties).to.deep.equal({ foo: 'bar' });
    expect(manifest!.stages[1]!.commands).to.deep.equal(['ls']);
  });

  it('coerces scalar env and label values to strings', () => {
    const { manifest } = parseManifest('env:\n  A: 0\n  B: false\n  C:\nlabels:\n  n: 1.5\nstages:\n  s:\n    image: x:1\n');
    expect(manifest!.env).to.deep.equal({ A: '0', B: 'false', C: '' });
    expect(manifest!.labels).to.deep.equal({ n: '1.5' });
  });

  const refused: Array<{ name: string; text: string; message: RegExp; field?: string }> = [
    { name: 'a YAML syntax error, with line and column', text: 'stages:\n  build:\n    image: [alpine,\n    commands: x: y\n', message: /YAML syntax error at line 4, column \d+/ },
    { name: 'a tab-indented block', text: 'stages:\n\tbuild:\n', message: /YAML syntax error at line 2, column 1/ },
    { name: 'two documents', text: 'stages: {}\n---\nstages: {}\n', message: /single YAML document/ },
    { name: 'a top-level list', text: '- a\n- b\n', message: /must be a mapping at the top level/ },
    { name: 'a scalar document', text: 'hello\n', message: /must be a mapping at the top level/ },
    { name: 'binary content', text: 'stages:\u0000\u0001\u0002', message: /not a text file/ },
    { name: 'too deep nesting', text: '['.repeat(100) + ']'.repeat(100), message: /maxDepth/ },
  ];
  refused.forEach((c) =>
    it(`refuses ${c.name}`, () => {
      const r = parseManifest(c.text);
      expect(r.manifest).to.equal(undefined);
      expect(r.problems).to.have.length.greaterThan(0);
      expect(r.problems[0]!.severity).to.equal('error');
      expect(r.problems[0]!.message).to.match(c.message);
    }),
  );

  it('reports duplicate stage names with their field and line', () => {
    const r = parseManifest('stages:\n  build:\n    image: a:1\n  test:\n    image: b:1\n  build:\n    image: c:1\n');
    expect(errorsOf(r.problems)).to.deep.equal([{ field: 'stages.build', message: "duplicate key 'build' (line 6, column 3); names must be unique", severity: 'error', line: 6, column: 3 }]);
  });

  it('reports duplicates inside releases and parallel stages with the full path', () => {
    const r = parseManifest(
      'stages:\n  p:\n    parallelStages:\n      x:\n        image: a:1\n      x:\n        image: a:1\nreleases:\n  prod:\n    stages:\n      d:\n        image: a:1\n      d:\n        image: a:1\n',
    );
    expect(errorsOf(r.problems).map((p) => p.field)).to.deep.equal(['stages.p.parallelStages.x', 'releases.prod.stages.d']);
  });

  it('refuses an alias bomb quickly with a clear error', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    const names = 'abcdefghi';
    for (let i = 1; i < names.length; i++) {
      const ref = `*${names[i - 1]}`;
      lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(ref).join(',')}]`);
    }
    lines.push('stages: {}');
    const started = Date.now();
    const r = parseManifest(lines.join('\n'));
    expect(Date.now() - started).to.be.lessThan(2000);
    expect(r.manifest).to.equal(undefined);
    expect(r.problems[0]!.message).to.match(/alias bomb/);
  });

  it('refuses a manifest with too many aliases', () => {
    const text = `x: &x 1\nl: [${Array(500).fill('*x').join(',')}]\n`;
    const r = parseManifest(text);
    expect(r.manifest).to.equal(undefined);
    expect(r.problems[0]!.message).to.match(/YAML aliases; at most/);
  });

  it('refuses a 50 MB input quickly without parsing it', () => {
    const huge = 'stages:\n' + '  # padding\n'.repeat((50 * 1024 * 1024) / 12);
    const started = Date.now();
    const r = parseManifest(huge);
    expect(Date.now() - started).to.be.lessThan(1000);
    expect(r.problems).to.deep.equal([{ field: '', message: `manifest is larger than ${MAX_MANIFEST_BYTES / 1024} KiB; refusing to parse it`, severity: 'error' }]);
  });

  it('treats an empty or comment-only file as an empty manifest', () => {
    for (const text of ['', '# nothing\n']) {
      const r = parseManifest(text);
      expect(r.problems).to.deep.equal([]);
      expect(r.manifest!.stages).to.deep.equal([]);
    }
  });

  const typeErrors: Array<{ name: string; text: string; field: string; message: RegExp }> = [
    { name: 'an unknown top-level key', text: 'stagez:\n  a:\n    image: x\n', field: 'stagez', message: /unknown top-level key 'stagez'/ },
    { name: 'stages and pipelines together', text: 'stages: {}\npipelines: {}\n', field: 'pipelines', message: /legacy name/ },
    { name: 'a list as an image', text: 'stages:\n  a:\n    image: [x]\n', field: 'stages.a.image', message: /must be a string, not a list/ },
    { name: 'a string as commands', text: 'stages:\n  a:\n    image: x\n    commands: ls\n', field: 'stages.a.commands', message: /list of strings/ },
    { name: 'a non-integer retries', text: 'stages:\n  a:\n    image: x\n    retries: lots\n', field: 'stages.a.retries', message: /must be an integer/ },
    { name: 'triggers as a mapping', text: 'triggers:\n  a: b\nstages: {}\n', field: 'triggers', message: /must be a list of triggers/ },
    { name: 'a scalar stage', text: 'stages:\n  a: alpine\n', field: 'stages.a', message: /must be a mapping/ },
    { name: 'an object env value', text: 'env:\n  A:\n    b: c\n', field: 'env.A', message: /must be a string/ },
    { name: 'a non-boolean archived', text: 'archived: maybe\n', field: 'archived', message: /true or false/ },
  ];
  typeErrors.forEach((c) =>
    it(`reports ${c.name} at ${c.field}`, () => {
      const errs = errorsOf(parseManifest(c.text).problems);
      expect(errs.map((p) => p.field)).to.include(c.field);
      expect(errs.find((p) => p.field === c.field)!.message).to.match(c.message);
    }),
  );

  it('accepts services as a list (Estafette) or as a map keyed by name', () => {
    const list = parseManifest('stages:\n  s:\n    services:\n    - name: db\n      image: pg:16\n');
    const map = parseManifest('stages:\n  s:\n    services:\n      db:\n        image: pg:16\n');
    expect(list.manifest!.stages[0]!.services).to.deep.equal(map.manifest!.stages[0]!.services);
    expect(list.manifest!.stages[0]!.services![0]!.name).to.equal('db');
  });

  it('never throws, whatever it is given', () => {
    for (const text of [null, 42, {}, '{', ':', '- - -', '!!binary x', '? [a]\n: b\n', '&a [*a]'] as unknown[]) {
      expect(() => parseManifest(text as string)).not.to.throw();
    }
  });
});

describe('parseManifest ordering and YAML 1.1 compatibility', () => {
  it('keeps YAML order even for integer-like names', () => {
    const { manifest } = parseManifest("stages:\n  build:\n    image: a:1\n  '2':\n    image: a:1\n  '1':\n    image: a:1\nreleases:\n  z: {}\n  '10': {}\n  a: {}\n");
    expect(manifest!.stages.map((s) => s.name)).to.deep.equal(['build', '2', '1']);
    expect(manifest!.releases.map((r) => r.name)).to.deep.equal(['z', '10', 'a']);
  });

  it('accepts yes/no/on/off for booleans as Estafette did', () => {
    const { manifest, problems } = parseManifest('archived: yes\nstages:\n  s:\n    image: a:1\n    runCommandsInForeground: on\nreleases:\n  r:\n    clone: no\n');
    expect(problems).to.deep.equal([]);
    expect(manifest!.archived).to.equal(true);
    expect(manifest!.stages[0]!.runCommandsInForeground).to.equal(true);
    expect(manifest!.releases[0]!.clone).to.equal(false);
  });
});

describe('parseManifest limits', () => {
  it('refuses a merge-key bomb as a limit, not a typo', () => {
    const lines = ['a0: &a0 {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1, k8: 1, k9: 1}'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `a${i}: &a${i}\n  <<: [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]\n  z${i}: {x: *a${i - 1}}`,
      );
    const r = parseManifest(lines.join('\n'));
    expect(r.manifest).to.equal(undefined);
    expect(r.problems[0]!.message).to.match(/^manifest refused at line \d+, column \d+: .*YAML bombs/);
  });

  it('reads a manifest with twenty thousand stages, every one in order', () => {
    // How long it takes is a benchmark's question, not a test's (no timed assertions here).
    const wide = 'stages:\n' + Array.from({ length: 20000 }, (_, i) => `  s${i}: {image: a:1}`).join('\n');
    const r = parseManifest(wide);
    expect(r.manifest!.stages).to.have.length(20000);
    expect(r.manifest!.stages.at(-1)!.name).to.equal('s19999');
  });

  it('lists at most 50 duplicate keys and counts the rest, still returning the manifest', () => {
    const r = parseManifest('stages:\n' + Array(200).fill('  s: {image: a:1}').join('\n'));
    expect(r.problems).to.have.length(51);
    expect(r.problems[50]!.message).to.equal('149 more duplicate keys not listed');
    expect(r.manifest!.stages).to.have.length(1);
  });
});
