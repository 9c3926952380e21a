/** Secret masking in log lines. */
import { expect } from 'chai';
import { createMasker, maskedStrings } from '../../builder/masking.ts';

describe('masking', () => {
  const secrets = ['s3cr3t-value', 'abc', 'first line\nsecond line\nok', 'p@ss.w*rd(1)'];
  const mask = createMasker(secrets);
  const cases: Array<{ name: string; in: string; out: string }> = [
    { name: 'plain value', in: 'token=s3cr3t-value!', out: 'token=***!' },
    { name: 'twice in a line', in: 's3cr3t-value s3cr3t-value', out: '*** ***' },
    { name: 'base64 form', in: `b64 ${Buffer.from('s3cr3t-value').toString('base64')}`, out: 'b64 ***' },
    { name: 'value of 3 chars or less is left alone', in: 'abc', out: 'abc' },
    { name: 'each line of a multi-line value', in: 'first line | second line', out: '*** | ***' },
    { name: 'short line of a multi-line value is left alone', in: 'ok', out: 'ok' },
    { name: 'regex characters are literal', in: 'pw p@ss.w*rd(1) p@ssXw*rd(1)', out: 'pw *** p@ssXw*rd(1)' },
    { name: 'unrelated text', in: 'nothing to hide', out: 'nothing to hide' },
  ];
  cases.forEach((c) => it(c.name, () => expect(mask(c.in)).to.equal(c.out)));

  it('masks the longest match first so no fragment of a longer secret leaks', () => {
    const m = createMasker(['secret', 'secret-with-suffix']);
    expect(m('x secret-with-suffix y')).to.equal('x *** y');
    expect(maskedStrings(['secret', 'secret-with-suffix'])[0]).to.equal(Buffer.from('secret-with-suffix').toString('base64'));
  });

  it('is the identity without secrets', () => {
    expect(createMasker([])('anything')).to.equal('anything');
  });
});
