/** query-api's edge parsing: filters, paging, Last-Event-ID, the router's matching, and sign-in settings and roles. */
import { expect } from 'chai';
import * as p from '../../../functions/query-api/params.ts';
import { lastEventSeq } from '../../../functions/query-api/log-stream.ts';
import { Router } from '../../../functions/query-api/router.ts';
import { roleFor } from '../../../shared/auth/roles.ts';
import { parseAuthSettings } from '../../../shared/auth/settings.ts';
import { parseCookies } from '../../../shared/auth/session.ts';
import { ConfigError, HttpError, ValidationError } from '../../../shared/errors/http-error.ts';
import { json } from '../../../shared/http/types.ts';

const q = (s: string) => new URLSearchParams(s);

describe('query-api params', () => {
  const good: Array<[string, () => unknown, unknown]> = [
    ['default paging', () => p.paging(q('')), { page: 1, size: 20 }],
    ['explicit paging', () => p.paging(q('page[number]=3&page[size]=100')), { page: 3, size: 100 }],
    ['statuses repeated and comma-separated', () => p.statuses(q('filter[status]=running,failed&filter[status]=pending')), ['running', 'failed', 'pending']],
    ['no statuses', () => p.statuses(q('filter[status]=')), undefined],
    ['labels', () => p.labels(q('filter[labels]=app%3Dx&filter[labels]=team%3Da%3Db')), { app: 'x', team: 'a=b' }],
    ['since 1d', () => p.since(q('filter[since]=1d'), 10 * 86400e3)!.getTime(), 9 * 86400e3],
    ['since eternity', () => p.since(q('filter[since]=eternity')), undefined],
    ['bool', () => p.bool(q('filter[archived]=true'), 'filter[archived]'), true],
    ['sort default', () => p.pipelineSort(q('')), '-lastBuild'],
    ['int param', () => p.intParam(q('last=7'), 'last', 50, 1, 1000), 7],
  ];
  good.forEach(([name, f, want]) => it(name, () => expect(f()).to.deep.equal(want)));

  const bad: Array<[string, () => unknown, RegExp]> = [
    ['page size 0', () => p.paging(q('page[size]=0')), /page\[size\]/],
    ['page size 101', () => p.paging(q('page[size]=101')), /from 1 to 100/],
    ['page number 1.5', () => p.paging(q('page[number]=1.5')), /page\[number\]/],
    ['unknown status', () => p.statuses(q('filter[status]=ok')), /'ok'/],
    ['label without =', () => p.labels(q('filter[labels]=app')), /key=value/],
    ['label with empty key', () => p.labels(q('filter[labels]=%3Dx')), /key=value/],
    ['since 2h', () => p.since(q('filter[since]=2h')), /1h, 1d, 1w, 1m, 1y, eternity/],
    ['bool yes', () => p.bool(q('filter[archived]=yes'), 'filter[archived]'), /true or false/],
    ['sort', () => p.pipelineSort(q('sort=-name')), /-lastBuild or name/],
    ['long search', () => p.text(q(`filter[search]=${'x'.repeat(201)}`), 'filter[search]'), /longer than 200/],
    ['body not JSON', () => p.jsonBody(Buffer.from('{')), /not valid JSON/],
    ['body an array', () => p.jsonBody(Buffer.from('[1]')), /JSON object/],
    ['field empty', () => p.field({ name: ' ' }, 'name'), /name is required/],
  ];
  bad.forEach(([name, f, message]) =>
    it(`400: ${name}`, () => {
      expect(f).to.throw(ValidationError, message);
    }),
  );

  it('Last-Event-ID: header first, then the query; anything but a seq means the start', () => {
    expect([lastEventSeq('41', null), lastEventSeq(undefined, '7'), lastEventSeq('x', null), lastEventSeq(undefined, null), lastEventSeq('-3', null)]).to.deep.equal([41, 7, -1, -1, -1]);
  });
});

describe('query-api router', () => {
  const router = new Router<null>([
    { method: 'GET', path: '/api/pipelines/:source/:owner/:repo/builds/:id/logs.stream', role: 'viewer', handle: () => json(200, 'stream') },
    { method: 'GET', path: '/api/pipelines/:source/:owner/:repo/builds/:id', role: 'viewer', handle: () => json(200, 'build') },
    { method: 'DELETE', path: '/api/pipelines/:source/:owner/:repo/builds/:id', role: 'operator', handle: () => json(202, 'cancel') },
  ]);
  it('matches literal dots, decodes params, HEAD as GET', () => {
    const m = router.match('GET', '/api/pipelines/github.com/o%20x/r/builds/12/logs.stream')!;
    expect(m.params).to.deep.equal({ source: 'github.com', owner: 'o x', repo: 'r', id: '12' });
    expect(router.match('GET', '/api/pipelines/a/b/c/builds/12/logsXstream')).to.equal(undefined);
    expect(router.match('HEAD', '/api/pipelines/a/b/c/builds/12')!.route.role).to.equal('viewer');
    expect(router.match('DELETE', '/api/pipelines/a/b/c/builds/12/')!.route.role).to.equal('operator');
  });
  it('405 for a known path with another method, 400 for bad encoding, undefined for unknown paths', () => {
    expect(() => router.match('POST', '/api/pipelines/a/b/c/builds/12')).to.throw(HttpError, /POST not allowed/);
    expect(() => router.match('GET', '/api/pipelines/a/%E0%A4%A/c/builds/1')).to.throw(HttpError, /bad URL encoding/);
    expect(router.match('GET', '/api/other')).to.equal(undefined);
  });
});

describe('sign-in settings and roles', () => {
  it('roleFor: highest of email (any case) and group matches, else the default', () => {
    const rules = { emails: { 'Ada@x.io': 'administrator' as const }, groups: { ops: 'operator' as const, readers: 'viewer' as const }, defaultRole: 'viewer' as const };
    expect([roleFor(rules, 'ada@X.io', ['readers']), roleFor(rules, 'b@x.io', ['readers', 'ops']), roleFor(rules, 'c@x.io'), roleFor({ defaultRole: 'operator' }, 'd@x.io')]).to.deep.equal([
      'administrator',
      'operator',
      'viewer',
      'operator',
    ]);
  });
  it('parseAuthSettings: off without ESTAFETTE_AUTH; GitHub endpoints filled in; clients and roles typed', () => {
    expect(parseAuthSettings({}, undefined, 'http://x')).to.deep.equal({ enabled: false });
    const s = parseAuthSettings(
      { ESTAFETTE_AUTH: JSON.stringify({ providers: [{ name: 'github', clientId: 'a', clientSecret: 'b' }], clients: [{ id: 'c', secret: 'd', role: 'operator' }], roles: { groups: { o: 'operator' } } }) },
      'key',
      'https://ci',
    );
    expect(s).to.deep.equal({
      enabled: true,
      jwtKey: 'key',
      baseUrl: 'https://ci',
      providers: [
        {
          name: 'github',
          kind: 'github',
          clientId: 'a',
          clientSecret: 'b',
          authorizeUrl: 'https://github.com/login/oauth/authorize',
          tokenUrl: 'https://github.com/login/oauth/access_token',
          userInfoUrl: 'https://api.github.com/user',
        },
      ],
      clients: [{ id: 'c', secret: 'd', role: 'operator' }],
      roles: { emails: {}, groups: { o: 'operator' }, defaultRole: 'viewer' },
    });
  });
  const bad: Array<[string, string | undefined, RegExp]> = [
    ['not JSON', '{', /not valid JSON/],
    ['no JWT key', '{}', /ESTAFETTE_JWT_KEY/],
    ['oidc without endpoints', '{"providers":[{"name":"corp","clientId":"a","clientSecret":"b"}]}', /providers\[0\]\.authorizeUrl/],
    ['bad role', '{"clients":[{"id":"a","secret":"b","role":"root"}]}', /clients\[0\]\.role/],
    ['bad provider name', '{"providers":[{"name":"Corp Sso","kind":"github","clientId":"a","clientSecret":"b"}]}', /lowercase/],
    ['bad default role', '{"roles":{"defaultRole":"god"}}', /defaultRole/],
  ];
  bad.forEach(([name, raw, message]) =>
    it(`parseAuthSettings refuses ${name}`, () => {
      expect(() => parseAuthSettings({ ESTAFETTE_AUTH: raw }, name === 'no JWT key' ? undefined : 'k', 'http://x')).to.throw(ConfigError, message);
    }),
  );
  it('parseCookies skips cookies it cannot decode', () => {
    expect(parseCookies('a=1; b=%E0%A4%A; estafette_session=x%3Dy')).to.deep.equal({ a: '1', estafette_session: 'x=y' });
  });
});
