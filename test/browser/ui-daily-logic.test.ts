/**
 * The pure parts behind the daily-use UI, without a browser: readable ANSI colours (WCAG
 * contrast), search marks in a line's HTML, where a failed stage failed, timestamps, triggers
 * and cron schedules in words, the insights duration axis, and the stage tree's failure,
 * follow and retry rules. The pages are tested in Chromium in daily-use.test.ts.
 */
import { expect } from 'chai';
import Anser from 'anser';
import type { LogLine, Stage } from '../../frontend/src/api/types.ts';
import { ansiToHtml } from '../../frontend/src/logs/ansi.ts';
import { contrast, hex, LOG_BACKGROUNDS, readable, type Rgb } from '../../frontend/src/logs/contrast.ts';
import { errorLineIndex, exitCodeOf } from '../../frontend/src/logs/error-line.ts';
import { markMatches } from '../../frontend/src/logs/highlight.ts';
import { LogStore } from '../../frontend/src/logs/log-store.ts';
import { formatLineTime } from '../../frontend/src/logs/timestamps.ts';
import { durationRange, durationTicks } from '../../frontend/src/insights/duration-axis.ts';
import { buildStageTree, firstFailure, followedStage, mergeStages } from '../../frontend/src/stages/stage-tree.ts';
import { cronInWords, triggerAction, triggerCondition, triggerText } from '../../frontend/src/words.ts';

const stage = (name: string, status: Stage['status'], extra: Partial<Stage> = {}): Stage => ({ stage: name, parent: null, kind: 'stage', run: 1, status, ...extra });
const log = (lines: Array<[string, 'stdout' | 'stderr']>): LogLine[] => lines.map(([text, stream], seq) => ({ seq, stage: 's', run: 1, time: '2026-01-01T00:00:00Z', stream, text }));
const worst = (c: Rgb) => Math.min(...LOG_BACKGROUNDS.map((bg) => contrast(c, bg)));

describe('UI: readable log colours', () => {
  it('the default log text and every highlighted background pass AA by a margin', () => {
    expect(worst(hex('#e6edf3'))).to.be.at.least(7);
    expect(worst(hex('#ffa198'))).to.be.at.least(4.5);
  });

  it('lifts each of the 256 palette colours anser draws to 4.5:1 on every log background', () => {
    const colours = Array.from(
      { length: 256 },
      (_, i) =>
        /rgb\((\d+),\s*(\d+),\s*(\d+)\)/
          .exec(Anser.ansiToHtml(`\u001b[38;5;${i}mx`))!
          .slice(1)
          .map(Number) as unknown as Rgb,
    );
    const lifted = colours.map((c) => readable(c, LOG_BACKGROUNDS));
    expect(lifted.map(worst).filter((r) => r < 4.5)).to.deep.equal([]);
    // A colour that already reads well is kept as it is.
    expect(readable([230, 237, 243], LOG_BACKGROUNDS)).to.deep.equal([230, 237, 243]);
  });

  it('text with its own background is made readable on that background (darkened on light ones)', () => {
    const onYellow = readable([255, 255, 255], [[255, 255, 85]]);
    expect(contrast(onYellow, [255, 255, 85])).to.be.at.least(4.5);
    expect(onYellow[0]).to.be.below(128);
  });

  const cases: Array<{ name: string; text: string; check: (html: string) => void }> = [
    { name: 'plain text is only escaped', text: 'a <b> & c', check: (h) => expect(h).to.equal('a &lt;b&gt; &amp; c') },
    { name: 'dark blue is lifted', text: '\u001b[34mblue\u001b[0m', check: (h) => expect(h).to.not.include('rgb(0, 0, 187)') },
    {
      name: 'dim is a colour, not half opacity',
      text: '\u001b[2mdim\u001b[0m',
      check: (h) =>
        expect(h)
          .to.match(/style="color:rgb\(\d+, \d+, \d+\)"/)
          .and.not.include('opacity'),
    },
    { name: 'a background keeps its colour and gets readable text', text: '\u001b[43m warn \u001b[0m', check: (h) => expect(h).to.match(/background-color:rgb\(187, 187, 0\);color:rgb\(\d+, \d+, \d+\)/) },
    { name: 'markup in a log stays text', text: '\u001b[31m<script>x</script>\u001b[0m', check: (h) => expect(h).to.include('&lt;script&gt;').and.not.include('<script>') },
  ];
  cases.forEach((c) => it(c.name, () => c.check(ansiToHtml(c.text))));
});

describe('UI: search marks', () => {
  const cases: Array<[string, string, string]> = [
    ['needle in a haystack', 'NEEDLE', '<mark>needle</mark> in a haystack'],
    ['a a a', 'a', '<mark>a</mark> <mark>a</mark> <mark>a</mark>'],
    ['<span style="color:red">red</span> and blue', 'd an', '<span style="color:red">re<mark>d</mark></span><mark> an</mark>d blue'],
    ['x &amp; y', '& y', 'x <mark>&amp; y</mark>'],
    ['amp &amp; amp', 'amp', '<mark>amp</mark> &amp; <mark>amp</mark>'],
    ['nothing here', 'zzz', 'nothing here'],
    ['empty query', '', 'empty query'],
  ];
  cases.forEach(([html, q, want]) => it(`${JSON.stringify(q)} in ${JSON.stringify(html)}`, () => expect(markMatches(html, q)).to.equal(want)));
});

describe('UI: where a failed stage failed', () => {
  const cases: Array<{ name: string; lines: Array<[string, 'stdout' | 'stderr']>; want: number | undefined }> = [
    {
      name: "the failing command's first stderr line",
      lines: [
        ['> make', 'stdout'],
        ['ok', 'stdout'],
        ['> make test', 'stdout'],
        ['running', 'stdout'],
        ['FAIL a', 'stderr'],
        ['FAIL b', 'stderr'],
      ],
      want: 4,
    },
    {
      name: 'stderr of an earlier command does not count',
      lines: [
        ['> a', 'stdout'],
        ['warning', 'stderr'],
        ['> b', 'stdout'],
        ['b says no', 'stdout'],
      ],
      want: 3,
    },
    {
      name: 'builder notes are skipped',
      lines: [
        ['> b', 'stdout'],
        ['out', 'stdout'],
        ['estafette: exit code 1', 'stderr'],
      ],
      want: 1,
    },
    {
      name: 'a command that printed nothing: the last line before it',
      lines: [
        ['> a', 'stdout'],
        ['Error: x', 'stderr'],
        ['detail', 'stderr'],
        ['> exit 3', 'stdout'],
      ],
      want: 2,
    },
    {
      name: 'no echoed command (an entrypoint): the first stderr line',
      lines: [
        ['starting', 'stdout'],
        ['boom', 'stderr'],
        ['after', 'stdout'],
      ],
      want: 1,
    },
    {
      name: 'only output: the last line',
      lines: [
        ['one', 'stdout'],
        ['two', 'stdout'],
      ],
      want: 1,
    },
    { name: 'an empty log', lines: [], want: undefined },
  ];
  cases.forEach((c) => it(c.name, () => expect(errorLineIndex(log(c.lines))).to.equal(c.want)));
  it('reads the exit code from the stage message', () => {
    expect([exitCodeOf('exit code 2'), exitCodeOf('timed out after 30s'), exitCodeOf(null)]).to.deep.equal([2, undefined, undefined]);
  });
});

describe('UI: line timestamps', () => {
  const start = Date.parse('2026-01-01T10:00:00.000Z');
  const cases: Array<[string, 'off' | 'absolute' | 'relative', string | RegExp]> = [
    ['2026-01-01T10:00:00.000Z', 'off', ''],
    ['2026-01-01T10:00:01.234Z', 'relative', '+0:01.234'],
    ['2026-01-01T10:02:05.007Z', 'relative', '+2:05.007'],
    ['2026-01-01T11:02:05.007Z', 'relative', '+1:02:05.007'],
    ['2026-01-01T09:59:59.000Z', 'relative', '+0:00.000'],
    ['2026-01-01T10:00:01.234Z', 'absolute', /^\d\d:\d\d:01\.234$/],
  ];
  cases.forEach(([iso, mode, want]) =>
    it(`${mode} ${iso}`, () => {
      const got = formatLineTime(iso, mode, start);
      if (typeof want === 'string') expect(got).to.equal(want);
      else expect(got).to.match(want);
    }),
  );
});

describe('UI: triggers in words', () => {
  const crons: Array<[string, string | undefined]> = [
    ['0 3 * * *', 'every day at 03:00'],
    ['30 8,17 * * *', 'every day at 08:30 and 17:30'],
    ['*/15 * * * *', 'every 15 minutes'],
    ['5 * * * *', 'every hour at minute 5'],
    ['0 */6 * * *', 'every 6 hours at minute 0'],
    ['0 9 * * 1-5', 'on weekdays at 09:00'],
    ['0 9 * * 1,3', 'on Mondays and Wednesdays at 09:00'],
    ['* * * * *', 'every minute'],
    ['0 0 1 * *', undefined],
  ];
  crons.forEach(([s, want]) => it(`cron ${s}`, () => expect(cronInWords(s)).to.equal(want)));

  const sentences: Array<[string, Record<string, unknown>, Record<string, unknown>, string]> = [
    [
      'pipeline',
      { name: 'github.com/o/lib', event: 'finished', status: 'succeeded', branch: 'main' },
      { builds: { branch: '' } },
      'builds the default branch when pipeline github.com/o/lib finishes a build with status succeeded on branch main',
    ],
    [
      'release',
      { name: 'github.com/o/app', target: 'staging', status: 'succeeded' },
      { releases: { target: 'production', version: 'same' } },
      'releases the same version to production when pipeline github.com/o/app finishes a release to staging with status succeeded',
    ],
    ['git', { repository: 'github.com/o/config', branch: 'main' }, { builds: { branch: 'main' } }, 'builds branch main when github.com/o/config is pushed to on branch main'],
    ['cron', { schedule: '0 3 * * *' }, { builds: { branch: 'main' } }, 'builds branch main every day at 03:00 (cron 0 3 * * *)'],
  ];
  sentences.forEach(([kind, filter, action, want]) => it(`${kind} trigger`, () => expect(`${triggerAction(action, null)} ${triggerCondition(kind, filter)}`).to.equal(want)));

  it('names what started a build, and who asked for a manual one', () => {
    expect([
      triggerText(null),
      triggerText({ event: 'git', fields: {} }),
      triggerText({ event: 'manual', fields: { USER_ID: 'ada@example.com' } }),
      triggerText({ event: 'cron', name: 'nightly', fields: { SCHEDULE: '0 3 * * *' } }),
      triggerText({ event: 'pipeline', fields: { NAME: 'github.com/o/lib', EVENT: 'finished' } }),
    ]).to.deep.equal(['git push', 'git push', 'manual by ada@example.com', "cron 'nightly' (0 3 * * *)", 'pipeline: github.com/o/lib finished']);
  });
});

describe('UI: the duration axis starts at 0 with exact, readable ticks', () => {
  const cases: Array<[number, number[]]> = [
    [0.34, [0, 0.1, 0.2, 0.3, 0.4]],
    [3.1, [0, 1, 2, 3, 4]],
    [47, [0, 10, 20, 30, 40, 50]],
    [140, [0, 30, 60, 90, 120, 150]],
    [1000, [0, 300, 600, 900, 1200]],
    [5400, [0, 1800, 3600, 5400]],
    [0, [0, 0.1, 0.2]],
  ];
  cases.forEach(([max, want]) =>
    it(`longest ${max}s`, () => {
      expect(durationTicks(max)).to.deep.equal(want);
      expect(durationRange(max)).to.deep.equal([0, want.at(-1)]);
    }),
  );
});

describe('UI: stage tree rules for following and failing', () => {
  it("a retry goes right after the stage's first run, not at the end", () => {
    const merged = mergeStages([stage('a', 'failed'), stage('b', 'pending'), stage('c', 'pending')], [stage('a', 'running', { run: 2 }), stage('sys', 'succeeded')]);
    expect(merged.map((s) => `${s.stage}#${s.run}`)).to.deep.equal(['a#1', 'a#2', 'b#1', 'c#1', 'sys#1']);
  });

  it('the failure is the first stage whose last run failed, inside a parallel stage its first failed child', () => {
    const roots = buildStageTree([
      stage('flaky', 'failed'),
      stage('flaky', 'succeeded', { run: 2 }),
      stage('test', 'failed', { kind: 'parallel' }),
      stage('test/unit', 'succeeded', { parent: 'test' }),
      stage('test/lint', 'failed', { parent: 'test' }),
      stage('later', 'failed'),
    ]);
    expect(firstFailure(roots)?.key).to.equal('test/lint#1');
    expect(firstFailure(buildStageTree([stage('a', 'succeeded')]))).to.equal(undefined);
  });

  it('the followed stage stays while it runs, then moves to the stage that printed last', () => {
    const tree = (statuses: Record<string, Stage['status']>) => buildStageTree(Object.entries(statuses).map(([n, st]) => stage(n, st)));
    const has = () => true;
    expect(followedStage(tree({ a: 'running', b: 'running' }), 'a#1', 'b#1', has)).to.equal('a#1');
    expect(followedStage(tree({ a: 'succeeded', b: 'running', c: 'running' }), 'a#1', 'c#1', has)).to.equal('c#1');
    expect(followedStage(tree({ a: 'succeeded', b: 'running', c: 'pending' }), 'a#1', 'a#1', has)).to.equal('b#1');
    expect(followedStage(tree({ a: 'succeeded', b: 'succeeded' }), 'b#1', 'b#1', has)).to.equal('b#1');
  });

  it('the log store knows which stage printed last', () => {
    const s = new LogStore();
    s.add(log([['x', 'stdout']]).map((l) => ({ ...l, stage: 'a' })));
    s.add([{ seq: 1, stage: 'b', run: 1, time: '', stream: 'stdout', text: 'y' }]);
    s.add([{ seq: 0, stage: 'a', run: 1, time: '', stream: 'stdout', text: 'dup' }]);
    expect(s.lastKey).to.equal('b#1');
  });
});
