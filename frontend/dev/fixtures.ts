/**
 * Canned data for the UI's throwaway dev server, in exactly the docs/API.md shapes: three
 * pipelines, a finished build with ANSI output, a running build whose log the server tails
 * live, and a 100,000-line build for checking the virtual log. Never used by the tests.
 */
import type { Build, LogLine, Pipeline, Release, Stage } from '../src/api/types.ts';

const now = Date.now();
const ago = (s: number) => new Date(now - s * 1000).toISOString();
const rev = (n: number) => n.toString(16).padStart(8, '0').repeat(5);

/** One build in API shape. */
export function build(id: string, p: Pick<Pipeline, 'repoSource' | 'repoOwner' | 'repoName'>, over: Partial<Build> = {}): Build {
  return {
    id,
    ...p,
    repoBranch: 'main',
    repoRevision: rev(Number(id)),
    buildVersion: `1.0.${id}`,
    buildStatus: 'succeeded',
    buildNumber: Number(id),
    labels: [
      { key: 'app', value: p.repoName },
      { key: 'team', value: 'ci' },
    ],
    releaseTargets: [{ name: 'production', actions: [{ name: 'deploy' }, { name: 'rollback' }] }, { name: 'staging' }],
    commits: [{ id: rev(Number(id)), message: `Change number ${id}\n\nlonger text`, author: { name: 'Ada Lovelace', email: 'ada@example.com' } }],
    trigger: { event: 'git', name: null, fields: {} },
    insertedAt: ago(3600 * Number(id)),
    startedAt: ago(3600 * Number(id) - 2),
    updatedAt: ago(3600 * Number(id) - 80),
    duration: (60 + Number(id) * 7) * 1e9,
    ...over,
  };
}

const demo = { repoSource: 'github.com', repoOwner: 'estafette', repoName: 'estafette-demo' };
const api = { repoSource: 'github.com', repoOwner: 'estafette', repoName: 'estafette-ci-api' };
const big = { repoSource: 'bitbucket.org', repoOwner: 'acme', repoName: 'big-logs' };

/** Every build by pipeline key `source/owner/repo`, newest first. */
export const builds: Record<string, Build[]> = {
  'github.com/estafette/estafette-demo': [
    build('9', demo, { buildStatus: 'running', duration: 0, insertedAt: ago(30), startedAt: ago(28), repoBranch: 'feature/live-logs' }),
    build('8', demo, { insertedAt: ago(600) }),
    build('7', demo, { buildStatus: 'failed', repoBranch: 'fix/flaky', insertedAt: ago(5000) }),
    build('6', demo, { insertedAt: ago(90000) }),
    build('5', demo, { insertedAt: ago(190000), buildStatus: 'canceled' }),
  ],
  'github.com/estafette/estafette-ci-api': [build('4', api, { insertedAt: ago(7200), duration: 412e9 }), build('3', api, { buildStatus: 'failed', insertedAt: ago(86400) })],
  'bitbucket.org/acme/big-logs': [build('2', big, { insertedAt: ago(400000), duration: 1900e9 })],
};
for (const list of Object.values(builds)) for (const b of list) b.manifest = MANIFEST();

function MANIFEST() {
  return `builder:\n  track: stable\nlabels:\n  app: demo\nstages:\n  build:\n    image: node:20\n    commands:\n    - npm ci\n  test:\n    parallelStages:\n      unit:\n        image: node:20\n      lint:\n        image: node:20\n    services:\n    - name: postgres\n      image: postgres:16\nreleases:\n  production:\n    actions:\n    - name: deploy\n    - name: rollback\n`;
}

/** Releases by pipeline key, newest first. */
export const releases: Record<string, Release[]> = {
  'github.com/estafette/estafette-demo': [
    {
      id: '21',
      name: 'production',
      action: 'deploy',
      ...demo,
      releaseVersion: '1.0.6',
      releaseStatus: 'succeeded',
      triggeredBy: 'ada@example.com',
      insertedAt: ago(80000),
      startedAt: ago(79990),
      updatedAt: ago(79900),
      duration: 90e9,
    },
    { id: '20', name: 'staging', action: null, ...demo, releaseVersion: '1.0.8', releaseStatus: 'succeeded', triggeredBy: 'trigger', insertedAt: ago(500), startedAt: ago(495), updatedAt: ago(450), duration: 45e9 },
  ],
};

/** The pipelines, with lastBuild and activeReleases derived from the above. */
export function pipelines(): Pipeline[] {
  return [demo, api, big].map((p, i) => {
    const key = `${p.repoSource}/${p.repoOwner}/${p.repoName}`;
    const rels = releases[key] ?? [];
    return {
      id: String(100 + i),
      ...p,
      labels: [
        { key: 'app', value: p.repoName },
        { key: 'team', value: i === 2 ? 'data' : 'ci' },
      ],
      archived: false,
      releaseTargets: (builds[key]![0]!.releaseTargets ?? []).map((t) => ({
        ...t,
        activeReleases: (t.actions?.length ? t.actions.map((a) => a.name) : [null]).flatMap((a) => rels.find((r) => r.name === t.name && (r.action ?? null) === a) ?? []),
      })),
      triggers:
        i === 0
          ? [
              {
                kind: 'cron',
                name: 'nightly',
                jobKind: 'build' as const,
                jobName: null,
                filter: { schedule: '0 3 * * *' },
                action: { builds: { branch: 'main' } },
                timeZone: 'UTC',
                nextFireAt: ago(-3600),
                lastFired: null,
              },
              {
                kind: 'pipeline',
                name: null,
                jobKind: 'build' as const,
                jobName: null,
                filter: { name: 'github.com/estafette/estafette-ci-api', branch: 'main', event: 'finished', status: 'succeeded' },
                action: { builds: { branch: '' } },
              },
            ]
          : [],
      lastBuild: builds[key]![0]!,
      insertedAt: ago(900000),
      updatedAt: builds[key]![0]!.insertedAt,
    };
  });
}

/** The stage tree of any build: parallel stages and a service under `test`. */
export function stages(b: Build): Stage[] {
  const running = b.buildStatus === 'running';
  const failed = b.buildStatus === 'failed';
  const st = (stage: string, parent: string | null, kind: Stage['kind'], status: Stage['status'], ms: number | null, message?: string): Stage => ({
    stage,
    parent,
    kind,
    run: 1,
    status,
    startedAt: b.startedAt,
    finishedAt: ms === null ? null : b.updatedAt,
    durationMs: ms,
    message: message ?? null,
  });
  return [
    st('git-clone', null, 'builtin', 'succeeded', 1200),
    st('build', null, 'stage', running ? 'running' : 'succeeded', running ? null : 23000),
    st('test', null, 'stage', running ? 'pending' : failed ? 'failed' : 'succeeded', running ? null : 31000, failed ? 'exit code 1' : undefined),
    st('unit', 'test', 'parallel', running ? 'pending' : 'succeeded', running ? null : 20000),
    st('lint', 'test', 'parallel', running ? 'pending' : failed ? 'failed' : 'succeeded', running ? null : 9000, failed ? 'exit code 1' : undefined),
    st('postgres', 'test', 'service', running ? 'pending' : 'succeeded', running ? null : 31000),
    st('publish', null, 'stage', running ? 'pending' : failed ? 'skipped' : 'succeeded', running ? null : 4000),
  ];
}

const COLORS = ['\u001b[32m', '\u001b[33m', '\u001b[36m', '\u001b[1;31m', '\u001b[38;5;208m'];

/** Stored log lines of a build; the big-logs build has 100,000 lines in `build`. */
export function logLines(b: Build): LogLine[] {
  const out: LogLine[] = [];
  let seq = 0;
  const add = (stage: string, text: string, stream: LogLine['stream'] = 'stdout') => out.push({ seq: seq++, stage, run: 1, time: b.insertedAt, stream, text });
  add('git-clone', `Cloning ${b.repoOwner}/${b.repoName} at ${b.repoRevision.slice(0, 7)}`);
  const n = b.repoName === 'big-logs' ? 100_000 : b.buildStatus === 'running' ? 5 : 60;
  for (let i = 0; i < n; i++) add('build', `${COLORS[i % COLORS.length]}step ${i}\u001b[0m compiling module-${i}.ts <ok> & done ${'·'.repeat(i % 40)}`);
  if (b.buildStatus === 'running') return out;
  for (let i = 0; i < 30; i++) add('unit', `  ✓ case ${i} passes (${i * 3}ms)`);
  add('lint', 'src/index.ts:3:1  error  no-unused-vars', b.buildStatus === 'failed' ? 'stderr' : 'stdout');
  add('postgres', 'database system is ready to accept connections');
  add('publish', 'pushed image estafette/demo:' + b.buildVersion);
  return out;
}
