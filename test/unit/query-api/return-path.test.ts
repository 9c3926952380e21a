/**
 * Where sign-in returns to: only a same-origin path (functions/query-api/sign-in.ts
 * safeReturnPath). Each value is what the handler reads from `?returnURL=` (already
 * query-decoded); every refused one would send a browser off-site, or is not a path.
 */
import { expect } from 'chai';
import { safeReturnPath } from '../../../functions/query-api/sign-in.ts';

const BASE = 'https://ci.example.com';

describe('sign-in return path', () => {
  const kept: Array<[string, string]> = [
    ['/', '/'],
    ['/pipelines', '/pipelines'],
    ['/pipelines/github.com/estafette/api/builds/7?tab=logs#L12', '/pipelines/github.com/estafette/api/builds/7?tab=logs#L12'],
    ['/builds?filter[status]=failed', '/builds?filter[status]=failed'],
    ['/a/../b', '/b'],
  ];
  kept.forEach(([v, expected]) => it(`keeps ${JSON.stringify(v)}`, () => expect(safeReturnPath(v, BASE)).to.equal(expected)));

  const refused = [
    null,
    undefined,
    '',
    'pipelines',
    'https://evil.example',
    'javascript:alert(1)',
    '//evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    '/%09/evil.example',
    '/\n/evil.example',
    '/\r/evil.example',
    '/%0d%0a/evil.example',
    '/%2F/evil.example',
    '/%5Cevil.example',
    '/..//evil.example',
    '/./\\evil.example',
    '/\u0000/evil.example',
    '/%00',
    '/%E0%A4%A',
    `/${'a'.repeat(2001)}`,
  ];
  refused.forEach((v) => it(`refuses ${JSON.stringify(v)?.slice(0, 40)}`, () => expect(safeReturnPath(v, BASE)).to.equal('/')));

  it('a base URL under a path keeps the same origin rule', () => {
    expect(safeReturnPath('/x', 'https://ci.example.com/estafette/')).to.equal('/x');
    expect(safeReturnPath('/\t/evil.example', 'https://ci.example.com/estafette/')).to.equal('/');
  });
});
