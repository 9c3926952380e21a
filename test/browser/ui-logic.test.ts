/**
 * The web UI's pure parts, without a browser: the log store (order, dedup), the virtual list
 * window, the stage tree (nesting, default selection, merging live updates), ANSI → safe HTML,
 * and the time/duration formats. The pages themselves are tested in ui.test.ts.
 */
import { expect } from 'chai';
import type { LogLine, Stage } from '../../frontend/src/api/types.ts';
import { LogStore, stageKey } from '../../frontend/src/logs/log-store.ts';
import { atBottom, visibleRange } from '../../frontend/src/logs/virtual-window.ts';
import { ansiToHtml } from '../../frontend/src/logs/ansi.ts';
import { buildStageTree, defaultSelection, mergeStages, visibleNodes } from '../../frontend/src/stages/stage-tree.ts';
import { formatAge, formatDuration } from '../../frontend/src/format.ts';

const line = (seq: number, stage = 'build', run = 1): LogLine => ({ seq, stage, run, time: '2026-01-01T00:00:00Z', stream: 'stdout', text: `line ${seq}` });
const stage = (name: string, parent: string | null = null, status: Stage['status'] = 'succeeded', kind: Stage['kind'] = 'stage', run = 1): Stage => ({ stage: name, parent, kind, run, status });

describe('UI: log store', () => {
  const cases: Array<{ name: string; batches: number[][]; want: number[] }> = [
    { name: 'in order', batches: [[0, 1, 2]], want: [0, 1, 2] },
    {
      name: 'out of order within and across batches',
      batches: [
        [3, 1],
        [0, 2],
      ],
      want: [0, 1, 2, 3],
    },
    {
      name: 'replayed lines after a reconnect are kept once',
      batches: [
        [0, 1, 2],
        [1, 2, 3],
      ],
      want: [0, 1, 2, 3],
    },
  ];
  cases.forEach((c) =>
    it(c.name, () => {
      const s = new LogStore();
      c.batches.forEach((b) => s.add(b.map((n) => line(n))));
      expect(s.lines(stageKey('build', 1)).map((l) => l.seq)).to.deep.equal(c.want);
      expect(s.size).to.equal(c.want.length);
      expect(s.lastSeq).to.equal(Math.max(...c.want));
    }),
  );

  it('groups lines per stage run and locates a seq', () => {
    const s = new LogStore();
    s.add([line(0, 'clone'), line(1, 'build'), line(2, 'build', 2), line(3, 'build')]);
    expect(s.keys().sort()).to.deep.equal(['build#1', 'build#2', 'clone#1']);
    expect(s.locate(3)).to.deep.equal({ key: 'build#1', index: 1 });
    expect(s.locate(99)).to.equal(undefined);
  });

  it('bumps its version only when lines were added', () => {
    const s = new LogStore();
    s.add([line(0)]);
    const v = s.version;
    expect(s.add([line(0)])).to.equal(0);
    expect(s.version).to.equal(v);
  });

  it('holds 100,000 lines and appends them quickly', () => {
    const s = new LogStore();
    for (let b = 0; b < 100; b++) s.add(Array.from({ length: 1000 }, (_, i) => line(b * 1000 + i)));
    expect(s.lines('build#1')).to.have.length(100_000);
    expect(s.locate(54_321)?.index).to.equal(54_321);
  });
});

describe('UI: virtual log window', () => {
  const cases: Array<{ name: string; args: [number, number, number, number, number]; want: { start: number; end: number } }> = [
    { name: 'top of a long log', args: [0, 400, 20, 100_000, 10], want: { start: 0, end: 31 } },
    { name: 'middle of a long log', args: [1_000_000, 400, 20, 100_000, 10], want: { start: 49_990, end: 50_031 } },
    { name: 'scrolled past the end (clamped)', args: [9_999_999, 400, 20, 100, 10], want: { start: 100, end: 100 } },
    { name: 'empty log', args: [0, 400, 20, 0, 10], want: { start: 0, end: 0 } },
    { name: 'short log fits', args: [0, 400, 20, 5, 10], want: { start: 0, end: 5 } },
  ];
  cases.forEach((c) => it(c.name, () => expect(visibleRange(...c.args)).to.deep.equal(c.want)));

  it('renders a bounded number of rows however long the log', () => {
    const { start, end } = visibleRange(12_345 * 20, 900, 20, 1_000_000);
    expect(end - start).to.be.below(100);
  });

  it('knows when the view is at the bottom (follow mode)', () => {
    expect(atBottom(600, 400, 1000)).to.equal(true);
    expect(atBottom(500, 400, 1000)).to.equal(false);
  });
});

describe('UI: stage tree', () => {
  const stages = [
    stage('git-clone', null, 'succeeded', 'builtin'),
    stage('test', null, 'failed'),
    stage('unit', 'test', 'succeeded', 'parallel'),
    stage('lint', 'test', 'failed', 'parallel'),
    stage('db', 'test', 'succeeded', 'service'),
    stage('publish', null, 'skipped'),
  ];

  it('nests parallel stages and services under their stage, in order', () => {
    const roots = buildStageTree(stages);
    expect(roots.map((n) => n.stage.stage)).to.deep.equal(['git-clone', 'test', 'publish']);
    expect(roots[1]!.children.map((n) => [n.stage.stage, n.depth])).to.deep.equal([
      ['unit', 1],
      ['lint', 1],
      ['db', 1],
    ]);
  });

  it('hides the children of collapsed nodes', () => {
    const roots = buildStageTree(stages);
    expect(visibleNodes(roots, new Set(['test#1'])).map((n) => n.key)).to.deep.equal(['git-clone#1', 'test#1', 'publish#1']);
  });

  it('adds nodes for stage runs that only appear in the logs', () => {
    const roots = buildStageTree([stage('build')], ['build#1', 'build#2', 'clone#1']);
    expect(roots.map((n) => n.key)).to.deep.equal(['build#1', 'build#2', 'clone#1']);
  });

  const selections = [
    { name: 'the failed child with output over its silent parent', st: stages, lines: ['lint#1'], want: 'lint#1' },
    { name: 'a running stage first', st: [stage('a'), stage('b', null, 'running'), stage('c', null, 'pending')], lines: ['a#1'], want: 'b#1' },
    { name: 'the last stage with output when all succeeded', st: [stage('a'), stage('b'), stage('c')], lines: ['a#1', 'b#1'], want: 'b#1' },
  ];
  selections.forEach((c) =>
    it(`selects ${c.name}`, () => {
      expect(defaultSelection(buildStageTree(c.st), (k) => c.lines.includes(k))).to.equal(c.want);
    }),
  );

  it('merges live stage updates by stage and run, a retry right after its first run', () => {
    const merged = mergeStages([stage('a', null, 'running'), stage('b', null, 'pending')], [stage('a', null, 'succeeded'), stage('a', null, 'running', 'stage', 2)]);
    expect(merged.map((s) => `${s.stage}#${s.run}:${s.status}`)).to.deep.equal(['a#1:succeeded', 'a#2:running', 'b#1:pending']);
  });
});

describe('UI: ANSI to HTML', () => {
  const cases = [
    { name: 'escapes markup in plain text', text: '<script>alert(1)</script> & "x"', has: ['&lt;script&gt;', '&amp;'], not: ['<script>'] },
    // Red is lifted from anser's rgb(187, 0, 0) to a red readable on the log (ui-daily-logic.test.ts).
    { name: 'colours SGR codes', text: '\u001b[31mred\u001b[0m plain', has: ['<span style="color:rgb(221, 128, 128)">red</span>', ' plain'], not: ['\u001b', 'rgb(187, 0, 0)'] },
    { name: 'escapes markup inside colour', text: '\u001b[32m<b>\u001b[0m', has: ['&lt;b&gt;'], not: ['<b>'] },
  ];
  cases.forEach((c) =>
    it(c.name, () => {
      const html = ansiToHtml(c.text);
      c.has.forEach((h) => expect(html).to.include(h));
      c.not.forEach((n) => expect(html).not.to.include(n));
    }),
  );
});

describe('UI: formats', () => {
  const durations: Array<[number | null, string]> = [
    [null, ''],
    [0.25, '250ms'],
    [12.4, '12s'],
    [125, '2m 05s'],
    [3720, '1h 02m'],
  ];
  durations.forEach(([s, want]) => it(`duration ${s} → '${want}'`, () => expect(formatDuration(s)).to.equal(want)));
  const now = Date.parse('2026-01-10T12:00:00Z');
  const ages: Array<[string, string]> = [
    ['2026-01-10T11:59:50Z', 'just now'],
    ['2026-01-10T11:55:00Z', '5m ago'],
    ['2026-01-10T09:00:00Z', '3h ago'],
    ['2026-01-08T12:00:00Z', '2d ago'],
    ['2025-10-01T00:00:00Z', '2025-10-01'],
  ];
  ages.forEach(([iso, want]) => it(`age ${iso} → '${want}'`, () => expect(formatAge(iso, now)).to.equal(want)));
});
