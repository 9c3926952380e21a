/** Splitting output into lines, with backpressure. */
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { LineSplitter, MAX_LINE_CHARS, pipeLines } from '../../builder/output-lines.ts';

describe('output lines', () => {
  const cases: Array<{ name: string; chunks: string[]; lines: string[] }> = [
    { name: 'lines across chunks', chunks: ['a\nb', 'c\nd'], lines: ['a', 'bc', 'd'] },
    { name: 'CRLF', chunks: ['a\r\nb\r\n'], lines: ['a', 'b'] },
    { name: 'empty lines kept', chunks: ['\n\nx\n'], lines: ['', '', 'x'] },
    { name: 'no trailing newline', chunks: ['tail'], lines: ['tail'] },
    { name: 'over-long line cut', chunks: ['y'.repeat(MAX_LINE_CHARS + 5)], lines: ['y'.repeat(MAX_LINE_CHARS), 'yyyyy'] },
  ];
  cases.forEach((c) =>
    it(c.name, () => {
      const s = new LineSplitter();
      const out = c.chunks.flatMap((x) => s.push(x));
      expect([...out, ...s.end()]).to.deep.equal(c.lines);
    }),
  );

  it('decodes UTF-8 split across chunks', async () => {
    const src = new PassThrough();
    const got: string[] = [];
    const done = pipeLines(src, 'stdout', (_s, t) => void got.push(t));
    const bytes = Buffer.from('héllo wörld\n');
    src.write(bytes.subarray(0, 2));
    src.end(bytes.subarray(2));
    await done;
    expect(got).to.deep.equal(['héllo wörld']);
  });

  it('stops reading while the sink is busy', async () => {
    const src = new PassThrough();
    const got: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done = pipeLines(src, 'stderr', (stream, t) => {
      got.push(`${stream}:${t}`);
      return t === 'wait' ? gate : undefined;
    });
    src.write('wait\n');
    await new Promise((r) => setTimeout(r, 20));
    src.write('after\n');
    await new Promise((r) => setTimeout(r, 20));
    expect(got).to.deep.equal(['stderr:wait']);
    expect(src.isPaused()).to.equal(true);
    release();
    src.end();
    await done;
    expect(got).to.deep.equal(['stderr:wait', 'stderr:after']);
  });
});
