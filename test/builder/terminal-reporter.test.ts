/** The terminal reporter of `estafette run`. */
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { createTerminalReporter, formatDuration } from '../../builder/terminal-reporter.ts';

function capture(_colour: boolean): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { out, text: () => text };
}

describe('terminal reporter', () => {
  const durations: Array<[number, string]> = [
    [850, '850ms'],
    [12_345, '12.3s'],
    [125_000, '2m05s'],
  ];
  durations.forEach(([ms, s]) => it(`formats ${ms} ms as ${s}`, () => expect(formatDuration(ms)).to.equal(s)));

  const build = async (colour: boolean): Promise<string> => {
    const c = capture(colour);
    const r = createTerminalReporter({ out: c.out, colour });
    r.status({ status: 'running', stages: [{ stage: 'build', run: 1, kind: 'stage', status: 'running' }] });
    r.line('build', 1, 'stdout', 'compiling');
    r.line('par/a', 1, 'stderr', 'warning');
    r.status({ stages: [{ stage: 'build', run: 1, kind: 'stage', status: 'failed', durationMs: 1500, message: 'exit code 2' }] });
    r.status({ stages: [{ stage: 'build', run: 2, kind: 'stage', status: 'succeeded', durationMs: 20 }], status: 'succeeded' });
    await r.close();
    return c.text();
  };

  it('prints headers, lines (prefixed for nested stages), results and a summary table', async () => {
    const text = await build(false);
    expect(text).to.equal(
      [
        '▶ build',
        '  compiling',
        'par/a │ warning',
        '✘ build failed 1.5s — exit code 2',
        '✔ build (run 2) succeeded 20ms',
        '',
        'STAGE          STATUS     DURATION',
        'build          failed     1.5s',
        'build (run 2)  succeeded  20ms',
        '',
        'build succeeded',
        '',
      ].join('\n'),
    );
  });

  it('colours only when asked (a TTY)', async () => {
    expect(await build(true)).to.include('\u001b[31m');
    expect(await build(false)).to.not.include('\u001b[');
  });
});
