/**
 * A throwaway dev server for working on the UI before the real query-api exists: serves
 * frontend/dist (SPA fallback to index.html) and canned `/api` responses shaped exactly as
 * docs/API.md, including a live SSE log tail. `npx tsx frontend/dev/server.ts [port] [--auth]`.
 * It is a development aid only; the browser tests run against `estafette start`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Build, LogLine, Release } from '../src/api/types.ts';
import { build, builds, logLines, pipelines, releases, stages } from './fixtures.ts';

const port = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? process.env.PORT ?? 5174);
const authOn = process.argv.includes('--auth');
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml' };

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const fail = (res: ServerResponse, status: number, message: string) => json(res, status, { status, message });
const list = <T>(items: T[], q: URLSearchParams) => {
  const size = Math.min(100, Number(q.get('page[size]') ?? 20));
  const page = Number(q.get('page[number]') ?? 1);
  return { items: items.slice((page - 1) * size, page * size), pagination: { page, size, totalPages: Math.max(1, Math.ceil(items.length / size)), totalItems: items.length } };
};
const body = (req: IncomingMessage) =>
  new Promise<Record<string, unknown>>((resolve) => {
    let s = '';
    req.on('data', (c) => (s += c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(s || '{}'));
      } catch {
        resolve({});
      }
    });
  });

const live = new Map<string, { lines: LogLine[]; timer?: NodeJS.Timeout }>();

async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL) {
  const q = url.searchParams;
  const path = url.pathname;
  await new Promise((r) => setTimeout(r, 120)); // make loading states visible
  if (path === '/api/me')
    return json(res, 200, authOn ? { authenticated: false, user: null, role: 'viewer', authEnabled: true } : { authenticated: true, user: { email: 'local', name: 'local' }, role: 'administrator', authEnabled: false });
  if (path === '/api/auth/providers')
    return json(res, 200, [
      { id: 'github', name: 'Github', organization: '', path: '/api/auth/login/github', label: 'GitHub' },
      { id: 'google', name: 'Google', organization: '', path: '/api/auth/login/google', label: 'Google' },
    ]);
  if (path === '/api/manifest/validate' && req.method === 'POST') {
    const m = String((await body(req)).manifest ?? '');
    const errors = [];
    if (!/^stages:/m.test(m)) errors.push({ field: 'stages', message: 'a manifest needs at least one stage' });
    const img = /^ {2}(\w+):\n {4}commands:/m.exec(m);
    if (img) errors.push({ field: `stages.${img[1]}.image`, message: 'image is required' });
    return json(res, 200, { status: errors.length ? 'failed' : 'succeeded', errors, warnings: /track: dev/.test(m) ? [{ field: 'builder.track', message: 'builder track dev is unstable' }] : [] });
  }
  if (path === '/api/manifest/encrypt' && req.method === 'POST') {
    const b = await body(req);
    if (!b.value) return fail(res, 400, 'value is required');
    return json(res, 200, {
      secret: `estafette.secret(${Buffer.from(String(b.value)).toString('base64url').slice(0, 12)}.deadbeef${b.pipelineAllowList ? `.${Buffer.from(String(b.pipelineAllowList)).toString('base64url')}` : ''})`,
    });
  }
  if (path === '/api/pipelines') {
    let items = pipelines();
    const st = q.get('filter[status]');
    const search = q.get('filter[search]');
    if (st) items = items.filter((p) => p.lastBuild?.buildStatus === st);
    if (search) items = items.filter((p) => `${p.repoOwner}/${p.repoName}`.includes(search));
    for (const l of q.getAll('filter[labels]')) items = items.filter((p) => (p.labels ?? []).some(({ key, value }) => `${key}=${value}` === l));
    return json(res, 200, list(items, q));
  }
  const m = /^\/api\/pipelines\/([^/]+)\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
  if (!m) return fail(res, 404, `no route ${path}`);
  const key = m.slice(1, 4).map(decodeURIComponent).join('/');
  const pipeline = pipelines().find((p) => `${p.repoSource}/${p.repoOwner}/${p.repoName}` === key);
  if (!pipeline) return fail(res, 404, `pipeline ${key} not found`);
  const rest = m[4] ?? '';
  const bs = builds[key]!;
  if (rest === '') return json(res, 200, pipeline);
  if (rest === '/recentbuilds') return json(res, 200, { items: [...new Map(bs.map((b) => [b.repoBranch, b] as const)).values()].filter((b, i, a) => a.findIndex((x) => x.repoBranch === b.repoBranch) === i) });
  if (rest === '/builds' && req.method === 'POST') {
    const b = await body(req);
    if (!b.buildVersion && !b.branch) return fail(res, 400, 'buildVersion or branch is required');
    const id = String(
      Math.max(
        ...Object.values(builds)
          .flat()
          .map((x) => Number(x.id)),
      ) + 1,
    );
    bs.unshift(build(id, pipeline, { buildStatus: 'running', insertedAt: new Date().toISOString(), duration: 0, buildVersion: String(b.buildVersion ?? `1.0.${id}`) }));
    return json(res, 202, { eventId: `evt-${id}` });
  }
  if (rest === '/builds') return json(res, 200, list(q.get('filter[status]') ? bs.filter((b) => b.buildStatus === q.get('filter[status]')) : bs, q));
  if (rest === '/releases' && req.method === 'POST') {
    const b = await body(req);
    if (!bs.some((x) => x.buildVersion === b.releaseVersion && x.buildStatus === 'succeeded')) return fail(res, 409, `version ${String(b.releaseVersion)} has no succeeded build`);
    const rels = (releases[key] ??= []);
    const r: Release = {
      repoSource: pipeline.repoSource,
      repoOwner: pipeline.repoOwner,
      repoName: pipeline.repoName,
      id: String(30 + rels.length),
      name: String(b.name),
      action: (b.action as string) ?? null,
      releaseVersion: String(b.releaseVersion),
      releaseStatus: 'running',
      triggeredBy: 'local',
      insertedAt: new Date().toISOString(),
      startedAt: null,
      updatedAt: null,
      duration: null,
    };
    rels.unshift(r);
    setTimeout(() => Object.assign(r, { releaseStatus: 'succeeded', duration: 3 }), 3000);
    return json(res, 202, { eventId: `evt-r${r.id}` });
  }
  if (rest === '/releases') return json(res, 200, list(releases[key] ?? [], q));
  if (rest.startsWith('/stats/')) {
    if (rest === '/stats/buildsdurations')
      return json(res, 200, {
        items: Array.from({ length: 40 }, (_, i) => ({
          id: String(i),
          buildVersion: `1.0.${i}`,
          buildStatus: i % 7 === 3 ? 'failed' : 'succeeded',
          insertedAt: new Date(Date.now() - i * 5 * 3600_000).toISOString(),
          duration: 80 + ((i * 37) % 60),
        })),
      });
    if (rest === '/stats/buildssuccessrate') return json(res, 200, { total: 40, succeeded: 34, failed: 6, rate: 0.85 });
    if (rest === '/stats/releases')
      return json(res, 200, {
        items: [
          { name: 'production', action: 'deploy', count: 6, lastReleasedAt: new Date(Date.now() - 80000e3).toISOString(), medianLeadTimeSeconds: 5400 },
          { name: 'staging', action: null, count: 19, lastReleasedAt: new Date(Date.now() - 500e3).toISOString(), medianLeadTimeSeconds: 600 },
        ],
      });
  }
  const r = /^\/(builds|releases)\/([^/]+)(\/[^/]+)?$/.exec(rest);
  if (!r) return fail(res, 404, `no route ${path}`);
  const run: Build | undefined = r[1] === 'builds' ? bs.find((b) => b.id === r[2]) : undefined;
  const rel = r[1] === 'releases' ? (releases[key] ?? []).find((x) => x.id === r[2]) : undefined;
  const asBuild: Build | undefined = run ?? (rel ? { ...bs[0]!, id: rel.id, buildStatus: rel.releaseStatus } : undefined);
  if (!asBuild) return fail(res, 404, `${r[1].slice(0, -1)} ${r[2]} not found`);
  if (!r[3] && req.method === 'DELETE') {
    if (run) Object.assign(run, { buildStatus: 'canceled', duration: 12e9 });
    const t = live.get(asBuild.id)?.timer;
    if (t) clearInterval(t);
    return json(res, 202, {});
  }
  if (!r[3]) return json(res, 200, run ?? rel);
  if (r[3] === '/stages') return json(res, 200, { items: stages(asBuild) });
  if (r[3] === '/loglines') {
    const all = liveLines(asBuild);
    const after = q.has('after') ? Number(q.get('after')) : -1;
    const limit = Number(q.get('limit') ?? 1000);
    return json(res, 200, { items: all.filter((l) => l.seq > after).slice(0, limit) });
  }
  if (r[3] === '/logs.stream') return stream(req, res, asBuild);
  return fail(res, 404, `no route ${path}`);
}

function liveLines(b: Build): LogLine[] {
  if (b.buildStatus !== 'running' && !live.has(b.id)) return logLines(b);
  let l = live.get(b.id);
  if (!l) {
    l = { lines: logLines(b) };
    live.set(b.id, l);
    const entry = l;
    entry.timer = setInterval(() => {
      const seq = entry.lines.length;
      entry.lines.push({ seq, stage: 'build', run: 1, time: new Date().toISOString(), stream: seq % 9 === 0 ? 'stderr' : 'stdout', text: `\u001b[36m[live]\u001b[0m line ${seq} at ${new Date().toISOString()}` });
      if (seq > 400) {
        clearInterval(entry.timer);
        b.buildStatus = 'succeeded';
      }
    }, 250);
  }
  return l.lines;
}

function stream(req: IncomingMessage, res: ServerResponse, b: Build) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let sent = Number(req.headers['last-event-id'] ?? -1);
  const tick = () => {
    for (const l of liveLines(b).filter((x) => x.seq > sent)) {
      res.write(`event: log\nid: ${l.seq}\ndata: ${JSON.stringify(l)}\n\n`);
      sent = l.seq;
    }
    if (b.buildStatus !== 'running') {
      res.write(`event: status\ndata: ${JSON.stringify({ status: b.buildStatus })}\n\n`);
      res.write('event: close\ndata: {}\n\n');
      clearInterval(t);
      res.end();
    }
  };
  const t = setInterval(tick, 200);
  tick();
  req.on('close', () => clearInterval(t));
}

function serveStatic(res: ServerResponse, pathname: string) {
  const file = normalize(join(dist, decodeURIComponent(pathname)));
  const target = file.startsWith(dist) && existsSync(file) && statSync(file).isFile() ? file : join(dist, 'index.html');
  if (!existsSync(target)) return fail(res, 503, 'frontend/dist is missing: run npm run build');
  res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream' });
  res.end(readFileSync(target));
}

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname.startsWith('/api/')) handleApi(req, res, url).catch((err) => fail(res, 500, String(err)));
  else serveStatic(res, url.pathname);
}).listen(port, () => console.log(`UI dev server (canned API) on http://localhost:${port}${authOn ? ' (auth on)' : ''}`));
