/**
 * The container images and the developer loop: every image skaffold builds is a target of the
 * Dockerfile and every image the manifests run is one skaffold builds; the Dockerfile builds with
 * the engine's built-in frontend (no syntax directive, no heredoc); runtime images run as a
 * non-root numeric user and hold built output only; the builder hook works with the variables
 * skaffold really sets; the dev profile's inner loop (bundles synced into a `node --watch`
 * container) restarts a function on a synced change; and each function image's start command
 * really serves /liveness.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { at, ofKind, renderedObjects, requireKubectl, ROOT } from './documents.ts';
import { effective, readDockerfile, stageChain, type Stage } from './dockerfile.ts';
import { loadFunctionsFile } from './functions-spec.ts';
import { freePort } from '../../cli/start/database.ts';
import { WORK_DIR } from '../../shared/k8s/job-spec.ts';
import { dockerUnavailable, skipWithoutDocker } from '../builder/docker-engine.ts';
import { uniqueName } from '../support/services.ts';
import { baseImagesMissing, buildImages, dockerfileArgs, envSources, knativeEnv, knativeServices } from './image-system.ts';
import { docker, runContainer, waitFor200 } from './knative-container.ts';

const functions = loadFunctionsFile().functions.map((f) => f.name);
const stages: Stage[] = readDockerfile(join(ROOT, 'Dockerfile'));
const stage = (name: string): Stage | undefined => stages.find((s) => s.name === name);

interface Artifact {
  image: string;
  hooks?: { after?: Array<{ command: string[]; os?: string[] }> };
  docker?: { dockerfile?: string; target?: string; buildArgs?: Record<string, string> };
  sync?: { manual?: Array<{ src: string; dest: string }> };
}
interface Profile {
  name: string;
  activation?: Array<{ command?: string }>;
  patches?: Array<{ op: string; path: string; value?: unknown }>;
  portForward?: Array<{ resourceType: string; resourceName: string; namespace?: string; port: number; localPort?: number }>;
}
const skaffold = load(readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8')) as {
  apiVersion: string;
  build: { artifacts: Artifact[]; tagPolicy?: Record<string, unknown> };
  manifests: { kustomize: { paths: string[] } };
  resourceSelector?: { allow?: Array<{ groupKind: string; image?: string[] }> };
  profiles: Profile[];
};
const artifacts = skaffold.build.artifacts;
const profile = (name: string): Profile => {
  const p = skaffold.profiles.find((x) => x.name === name);
  if (!p) throw new Error(`skaffold.yaml has no profile ${name}`);
  return p;
};
const RUNTIME_TARGETS = [...functions, 'builder', 'frontend'];
const globalArgs = dockerfileArgs;
/** Whether a skaffold sync `src` glob (`*` within a path segment, `**` across them) matches `path`. */
const globMatches = (glob: string, path: string): boolean =>
  new RegExp(
    `^${glob
      .split('**')
      .map((part) =>
        part
          .split('*')
          .map((t) => t.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*'),
      )
      .join('.*')}$`,
  ).test(path);

describe('deploy: Dockerfile and skaffold', () => {
  it('builds one artifact per function plus builder and frontend, each a Dockerfile target', () => {
    expect(artifacts.map((a) => a.docker?.target).sort()).to.deep.equal([...RUNTIME_TARGETS].sort());
    for (const a of artifacts) {
      expect(a.docker?.dockerfile, a.image).to.equal('Dockerfile');
      expect(stage(String(a.docker?.target)), `Dockerfile has no stage ${a.docker?.target}`).to.exist;
      expect(a.image).to.equal(`estafette-${a.docker?.target}`);
    }
  });

  it('uses skaffold config v4 and deploys knative/overlays/dev through kustomize, rewriting images in Knative Services', () => {
    expect(skaffold.apiVersion).to.match(/^skaffold\/v4beta(1[1-9]|[2-9]\d)$/);
    expect(skaffold.manifests.kustomize.paths).to.deep.equal(['knative/overlays/dev']);
    const allow = skaffold.resourceSelector?.allow?.find((a) => a.groupKind === 'Service.serving.knative.dev');
    expect(allow?.image).to.deep.equal(['.*']);
    // Knative makes a new Revision only when the spec changes: tags must follow the content.
    expect(Object.keys(skaffold.build.tagPolicy ?? {})).to.deep.equal(['inputDigest']);
  });

  ['knative/overlays/dev', 'knative/base'].forEach((dir) => {
    it(`runs in ${dir} only images skaffold builds (so each gets replaced by the fresh build)`, function () {
      requireKubectl(this);
      const objs = renderedObjects(dir);
      const images = [
        ...ofKind(objs, 'Service', 'serving.knative.dev').map((s) => at(s, 'spec', 'template', 'spec', 'containers', 0, 'image')),
        ...ofKind(objs, 'Job', 'batch').map((j) => at(j, 'spec', 'template', 'spec', 'containers', 0, 'image')),
      ];
      const built = artifacts.map((a) => a.image);
      expect(images.filter((i) => !built.includes(String(i)))).to.deep.equal([]);
    });
  });

  it('maps every deployed image to a registry name in the production overlay', function () {
    requireKubectl(this);
    const kustomization = load(readFileSync(join(ROOT, 'knative/overlays/production/kustomization.yaml'), 'utf8')) as { images: Array<{ name: string; newName: string; newTag?: string }> };
    const mapped = kustomization.images.map((i) => i.name).sort();
    expect(mapped).to.deep.equal(
      artifacts
        .map((a) => a.image)
        .filter((i) => i !== 'estafette-builder')
        .sort(),
    );
    const prodImages = ofKind(renderedObjects('knative/overlays/production'), 'Service', 'serving.knative.dev').map((s) => String(at(s, 'spec', 'template', 'spec', 'containers', 0, 'image')));
    expect(
      prodImages.filter((i) => !/^[a-z0-9.-]+\.[a-z]+\/.+:.+$/.test(i)),
      'registry/name:tag',
    ).to.deep.equal([]);
  });

  it("builds with the engine's built-in frontend: no syntax directive (it pulls an image), no heredoc, base images as build args", () => {
    const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(text).to.not.match(/^#\s*syntax\s*=/im);
    expect(text.split('\n').filter((l) => !l.startsWith('#') && /<<-?\s*['"]?[A-Z]/.test(l))).to.deep.equal([]);
    const froms = text
      .split('\n')
      .filter((l) => /^FROM\s/i.test(l))
      .map((l) => l.split(/\s+/)[1]!);
    const stageNames = stages.map((st) => st.name);
    // Every base is a build arg or another stage (or scratch): nothing is fixed to a registry image.
    expect(froms.filter((f) => f !== 'scratch' && !/^\$\{\w+\}$/.test(f) && !stageNames.includes(f))).to.deep.equal([]);
  });

  RUNTIME_TARGETS.forEach((target) => {
    it(`${target}: runs as a non-root numeric user and holds built output only`, () => {
      const user = effective(stages, target, 'USER');
      expect(user, 'USER').to.match(/^[1-9]\d*(:\d+)?$/);
      const chain = stageChain(stages, target).map((s) => s.name);
      expect(chain, 'built on the build stage').to.not.include('build');
      // Only built output is copied in: bundles, migrations, the UI (from `dist`) and the migrate
      // command's files (from `migrate-files`, itself made from `dist`) — never node_modules.
      const copies = stageChain(stages, target).flatMap((s) => s.instructions.filter((i) => i.keyword === 'COPY' && /--from=/.test(i.args)));
      for (const c of copies) {
        const from = /--from=(\S+)/.exec(c.args)![1];
        const sources = c.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1);
        expect(['dist', 'migrate-files'], c.args).to.include(from);
        for (const src of sources) expect(src, c.args).to.match(from === 'dist' ? /^\/app\/(dist|frontend\/dist)(\/|$)/ : /^\/out\/$/);
      }
    });
  });

  it("the migrate command's files come from the bundles only", () => {
    const copies =
      stage('migrate-files')
        ?.instructions.filter((i) => i.keyword === 'COPY')
        .map((i) => i.args) ?? [];
    expect(copies).to.deep.equal(['--from=dist /app/dist/ /in/', 'docker/bundle-closure.mjs /bundle-closure.mjs']);
  });

  it('keeps tsx and functions-framework (needed at run time) out of devDependencies', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).to.include.keys('tsx', '@google-cloud/functions-framework', 'cloudevents', 'pg', 'nats', '@kubernetes/client-node');
  });

  functions.forEach((name) => {
    it(`${name}: its target runs that function's bundle with plain node (no TypeScript loader)`, () => {
      expect(stage(name)?.from).to.equal('functions-runtime');
      const command = [...JSON.parse(String(effective(stages, name, 'ENTRYPOINT'))), ...JSON.parse(String(effective(stages, name, 'CMD')))] as string[];
      expect(command).to.deep.equal(['node', `dist/functions/${name}.mjs`]);
      expect(existsSync(join(ROOT, command[1]!)), `${command[1]} is built`).to.equal(true);
    });
  });

  it('no runtime target mentions tsx', () => {
    for (const target of [...RUNTIME_TARGETS, 'migrate']) {
      const text = stageChain(stages, target)
        .filter((s) => s.name !== 'build' && s.name !== 'base')
        .flatMap((s) => s.instructions)
        .map((i) => i.args)
        .join('\n');
      expect(text, target).to.not.match(/tsx/);
    }
  });

  it("builder: has git, trusts exactly the Job's work dir for it, and runs the builder bundle", () => {
    const runs = stageChain(stages, 'builder')
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args);
    expect(runs.some((r) => /apt-get install[^&]*\bgit\b/.test(r))).to.equal(true);
    expect(runs.flatMap((r) => [...r.matchAll(/safe\.directory (\S+)/g)].map((m) => m[1]))).to.deep.equal([WORK_DIR]);
    expect(JSON.parse(String(effective(stages, 'builder', 'ENTRYPOINT')))).to.deep.equal(['node', 'dist/builder.mjs']);
    expect(existsSync(join(ROOT, 'dist/builder.mjs'))).to.equal(true);
  });

  it('frontend: serves the Vite build with docker/nginx.conf, which answers the probe path of its Knative Service', function () {
    requireKubectl(this);
    const copies =
      stage('frontend')
        ?.instructions.filter((i) => i.keyword === 'COPY')
        .map((i) => i.args) ?? [];
    expect(copies).to.include('--from=dist /app/frontend/dist/ /usr/share/nginx/html/');
    expect(copies).to.include('docker/nginx.conf /etc/nginx/nginx.conf');
    const conf = readFileSync(join(ROOT, 'docker/nginx.conf'), 'utf8');
    const svc = ofKind(renderedObjects('knative/base'), 'Service', 'serving.knative.dev').find((s) => s.metadata.name === 'frontend');
    const probe = String(at(svc, 'spec', 'template', 'spec', 'containers', 0, 'readinessProbe', 'httpGet', 'path'));
    expect(conf).to.include(`location = ${probe} `);
    expect(conf).to.match(/listen 8080;/);
    expect(conf).to.match(/try_files \$uri \/index\.html;/);
  });

  // What skaffold puts in a build hook's environment, as its own code computes it:
  // pkg/skaffold/hooks/build.go NewBuildEnvOpts (Image = the tag it built, ImageRepo/ImageTag from
  // docker/reference.go ParseReference: Repo = the name without its last path element).
  const skaffoldBuildEnv = (image: string, push: boolean): Record<string, string> => {
    const [name, tag = ''] = image.split('@')[0]!.split(/:(?=[^/:]+$)/);
    const parts = name!.split('/');
    return {
      SKAFFOLD_IMAGE: image,
      SKAFFOLD_PUSH_IMAGE: String(push),
      SKAFFOLD_IMAGE_REPO: parts.length > 1 ? parts.slice(0, -1).join('/') : '',
      SKAFFOLD_IMAGE_TAG: tag,
      SKAFFOLD_BUILD_CONTEXT: ROOT,
      SKAFFOLD_WORK_DIR: ROOT,
      SKAFFOLD_RPC_PORT: '50051',
      SKAFFOLD_HTTP_PORT: '50052',
    };
  };
  const hookCases: Array<{ name: string; image: string; push: boolean; repository: string; defaultRepo?: string }> = [
    { name: "kind's local registry, pushed", image: 'localhost:5001/estafette-builder:abc123', push: true, repository: 'localhost:5001/estafette-builder', defaultRepo: 'localhost:5001' },
    {
      name: 'a nested registry path, not pushed',
      image: 'europe-docker.pkg.dev/proj/ci/estafette-builder:v1.2.0-3-gdeadbee-dirty',
      push: false,
      repository: 'europe-docker.pkg.dev/proj/ci/estafette-builder',
      defaultRepo: 'europe-docker.pkg.dev/proj/ci',
    },
    { name: "no default repo (minikube's docker)", image: 'estafette-builder:abc123', push: false, repository: 'estafette-builder' },
  ];
  hookCases.forEach((c) =>
    it(`builder: the after-build hook tags the fresh builder with each track, with the variables skaffold sets: ${c.name}`, () => {
      const [hook] = artifacts.find((a) => a.docker?.target === 'builder')?.hooks?.after ?? [];
      expect(hook?.os).to.include('linux');
      // Run the hook as skaffold would, with a `docker` that only records its arguments.
      const bin = mkdtempSync(join(tmpdir(), 'fake-docker-'));
      try {
        writeFileSync(join(bin, 'docker'), '#!/bin/sh\necho "docker $*"\n');
        chmodSync(join(bin, 'docker'), 0o755);
        const env = { PATH: `${bin}:${process.env.PATH}`, ...skaffoldBuildEnv(c.image, c.push), ...(c.defaultRepo ? { SKAFFOLD_DEFAULT_REPO: c.defaultRepo } : {}) };
        const [cmd, ...args] = hook!.command;
        const r = spawnSync(cmd!, args, { env, encoding: 'utf8' });
        expect(r.status, r.stderr).to.equal(0);
        const tags = ['stable', 'dev'].flatMap((t) => [`docker tag ${c.image} ${c.repository}:${t}`, ...(c.push ? [`docker push ${c.repository}:${t}`] : [])]);
        expect(r.stdout.trim().split('\n')).to.deep.equal(tags);
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    }),
  );

  it("the test feeds the hook skaffold's values (SKAFFOLD_IMAGE_REPO is not the image's repository)", () => {
    expect(skaffoldBuildEnv('gcr.io/foo/img1:latest', true)).to.deep.include({ SKAFFOLD_IMAGE: 'gcr.io/foo/img1:latest', SKAFFOLD_IMAGE_REPO: 'gcr.io/foo', SKAFFOLD_IMAGE_TAG: 'latest' });
  });

  it("dev profile: deploys knative/overlays/dev-watch, and builds and syncs only the functions' bundles into their WORKDIR", function () {
    requireKubectl(this);
    const dev = profile('dev');
    expect(dev.activation?.some((a) => a.command === 'dev')).to.equal(true);
    expect(dev.patches).to.deep.include({ op: 'replace', path: '/manifests/kustomize/paths/0', value: 'knative/overlays/dev-watch' });
    const declared = new Set(stages.flatMap((st) => st.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=')[0])).concat(Object.keys(globalArgs())));
    const patched = new Map<string, Set<string>>();
    for (const p of (dev.patches ?? []).filter((x) => x.path.startsWith('/build/'))) {
      const m = /^\/build\/artifacts\/(\d+)\/(docker\/buildArgs|sync)$/.exec(p.path);
      expect(m, `unexpected patch ${p.path}`).to.not.equal(null);
      const name = String(artifacts[Number(m![1])]?.docker?.target);
      expect(functions, `artifact ${m![1]}`).to.include(name);
      (patched.get(name) ?? patched.set(name, new Set()).get(name)!).add(m![2]!);
      if (m![2] === 'docker/buildArgs') {
        expect(
          Object.keys(p.value as object).filter((k) => !declared.has(k)),
          'build args the Dockerfile declares',
        ).to.deep.equal([]);
        expect(p.value).to.deep.equal({ DIST: 'context', BUNDLE_OWNER: '1000:1000' });
      } else {
        const rules = (p.value as Artifact['sync'])!.manual!;
        expect(rules.map((r) => r.dest)).to.deep.equal(rules.map(() => effective(stages, name, 'WORKDIR')));
        // The rules match this function's bundle and chunks, and nothing of another function.
        const files = readdirSync(join(ROOT, 'dist/functions'))
          .filter((f) => f.endsWith('.mjs'))
          .map((f) => `dist/functions/${f}`);
        const matched = files.filter((f) => rules.some((r) => globMatches(r.src, f)));
        expect(matched.length).to.be.greaterThan(1);
        expect(matched.filter((f) => !f.startsWith(`dist/functions/${name}.`) && !f.startsWith(`dist/functions/${name}~`))).to.deep.equal([]);
        expect(matched).to.include(`dist/functions/${name}.mjs`);
      }
    }
    expect([...patched.keys()].sort()).to.deep.equal([...functions].sort());
    for (const set of patched.values()) expect([...set].sort()).to.deep.equal(['docker/buildArgs', 'sync']);
    // dev-watch runs each function's own bundle under node --watch, on a root the sync can write.
    for (const svc of ofKind(renderedObjects('knative/overlays/dev-watch'), 'Service', 'serving.knative.dev').filter((x) => functions.includes(x.metadata.name))) {
      const c = at(svc, 'spec', 'template', 'spec', 'containers', 0) as { args: string[]; command?: string[]; securityContext: { readOnlyRootFilesystem: boolean } };
      expect(c.command, "the image's ENTRYPOINT (node) stays").to.equal(undefined);
      expect([...JSON.parse(String(effective(stages, svc.metadata.name, 'ENTRYPOINT'))), ...c.args]).to.deep.equal(['node', '--watch', `dist/functions/${svc.metadata.name}.mjs`]);
      expect(c.securityContext.readOnlyRootFilesystem).to.equal(false);
    }
  });

  it("dev profile: port-forwards to the dev overlay's query-api Service on its port", function () {
    requireKubectl(this);
    const [pf] = profile('dev').portForward ?? [];
    const svc = ofKind(renderedObjects('knative/overlays/dev'), 'Service', '').find((s) => s.metadata.name === pf?.resourceName && s.metadata.namespace === pf?.namespace);
    expect(pf?.resourceType).to.equal('service');
    expect(svc, `Service ${pf?.namespace}/${pf?.resourceName}`).to.exist;
    expect(((at(svc, 'spec', 'ports') ?? []) as Array<{ port: number }>).map((p) => p.port)).to.include(pf.port);
  });

  it('local profile: pushes to the local registry the dev overlay points the builder at', function () {
    requireKubectl(this);
    expect(profile('local').patches).to.deep.include({ op: 'add', path: '/build/local/push', value: true });
    const defaults = ofKind(renderedObjects('knative/overlays/dev'), 'ConfigMap').find((c) => c.metadata.name === 'estafette-builder-defaults');
    expect(String(at(defaults, 'data', 'BUILDER_IMAGE'))).to.equal('localhost:5001/estafette-builder');
    // Images loaded into kind/minikube or pushed with a unique tag start without a pull.
    const objs = renderedObjects('knative/overlays/dev');
    const policies = [...ofKind(objs, 'Service', 'serving.knative.dev'), ...ofKind(objs, 'Job', 'batch')].map((o) => [o.metadata.name, at(o, 'spec', 'template', 'spec', 'containers', 0, 'imagePullPolicy')]);
    expect(policies.filter(([, p]) => p !== 'IfNotPresent')).to.deep.equal([]);
    expect(JSON.parse(String(at(defaults, 'data', 'BUILDER_JOB_SPEC_OPTIONS'))).imagePullPolicy).to.equal('IfNotPresent');
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8')).to.match(/^\*\*\/node_modules$/m);
  });
});

/** Starts a target's ENTRYPOINT + CMD in `cwd`; resolves when GET /liveness answers 200. */
async function startTarget(name: string, cwd: string, extraEnv: Record<string, string> = {}) {
  const entry = JSON.parse(String(effective(stages, name, 'ENTRYPOINT'))) as string[];
  const cmd = JSON.parse(String(effective(stages, name, 'CMD'))) as string[];
  const port = await freePort();
  const child = spawn(entry[0], [...entry.slice(1), ...cmd], {
    cwd,
    // A database URL is required configuration; nothing connects before a request needs it.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), JOB_RUNNER: 'local', DATABASE_URL: 'postgres://127.0.0.1:1/none', ESTAFETTE_JWT_KEY: 'k', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const state = { output: '' };
  child.stdout.on('data', (d) => (state.output += d));
  child.stderr.on('data', (d) => (state.output += d));
  const liveness = async (): Promise<Response | undefined> => {
    for (let i = 0; i < 100 && child.exitCode === null; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/liveness`).catch(() => undefined);
      if (res) return res;
      await new Promise((r) => setTimeout(r, 150));
    }
    return undefined;
  };
  return { child, state, liveness };
}

describe("deploy: each function image's start command serves its health routes", function () {
  this.timeout(30_000);
  functions.forEach((name) => {
    it(`${name}: ENTRYPOINT + CMD of its target answer GET /liveness`, async function () {
      if (!existsSync(join(ROOT, 'functions', name, 'index.ts'))) {
        console.warn(`\n  !!! SKIPPED: functions/${name}/index.ts does not exist yet !!!\n`);
        return this.skip();
      }
      // The image's command line, run in the checkout (which has the same files and node_modules).
      const { child, state, liveness } = await startTarget(name, ROOT);
      try {
        const res = await liveness();
        expect(res?.status, `no answer; output:\n${state.output}`).to.equal(200);
        expect(await res!.json()).to.deep.include({ status: 'ok' });
      } finally {
        child.kill('SIGTERM');
      }
    });
  });
});

describe("deploy: the dev profile's reload", function () {
  this.timeout(180_000);
  const run = uniqueName('devloop').toLowerCase();
  const name = 'webhook-ingest';
  let dir = '';

  before(async function () {
    this.timeout(300_000);
    requireKubectl(this);
    const noEngine = await dockerUnavailable();
    if (noEngine) skipWithoutDocker(this, 'the dev loop check', noEngine);
    const noBase = baseImagesMissing();
    if (noBase) skipWithoutDocker(this, 'the dev loop check', noBase);
    dir = mkdtempSync(join(tmpdir(), 'dev-sync-'));
  });
  after(async () => {
    await docker('rm', '-f', `${run}-dev`, `${run}-prod`).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the function as knative/overlays/dev-watch does, from `image`. */
  const start = async (image: string, containerName: string) => {
    const objs = renderedObjects('knative/overlays/dev-watch');
    const svc = knativeServices(objs).get(name)!;
    const secret = ofKind(objs, 'Secret').find((x) => x.metadata.name === 'estafette-secrets')!;
    const decoded = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    return runContainer({ name: containerName, container: svc.container, image, port: await freePort(), sources: envSources(objs, { 'estafette-secrets': decoded }), env: knativeEnv(name, 'http://127.0.0.1:1') });
  };
  /** What skaffold's sync does with a changed file: a tar of it under its `dest`, unpacked by the container's user. */
  const sync = async (container: string, src: string, dest: string, content: string): Promise<{ code: number; stderr: string }> => {
    mkdirSync(join(dir, dest, src, '..'), { recursive: true });
    writeFileSync(join(dir, dest, src), content);
    const tar = spawnSync('tar', ['-C', dir, '-cf', '-', join(dest, src).replace(/^\//, '')]);
    const r = spawnSync('docker', ['exec', '-i', container, 'tar', 'xmf', '-', '-C', '/', '--no-same-owner'], { input: tar.stdout, encoding: 'utf8' });
    return { code: r.status ?? 1, stderr: r.stderr };
  };

  it('restarts a function when skaffold syncs its rebuilt bundle into the container (node --watch), and only an image built for it accepts the sync', async () => {
    const dev = profile('dev');
    const index = artifacts.findIndex((a) => a.docker?.target === name);
    const buildArgs = dev.patches!.find((p) => p.path === `/build/artifacts/${index}/docker/buildArgs`)!.value as Record<string, string>;
    const rules = (dev.patches!.find((p) => p.path === `/build/artifacts/${index}/sync`)!.value as Artifact['sync'])!.manual!;
    buildImages([name], { tag: 'dev', buildArgs });
    buildImages([name]);
    const c = await start(`estafette-${name}:dev`, `${run}-dev`);
    await waitFor200(c, '/liveness');
    const entry = `dist/functions/${name}.mjs`;
    const rule = rules.find((r) => globMatches(r.src, entry))!;
    const marker = `synced change ${run}`;
    const changed = `${readFileSync(join(ROOT, entry), 'utf8')}\nconsole.log(${JSON.stringify(marker)});\n`;
    const synced = await sync(c.name, entry, rule.dest, changed);
    expect(synced.code, synced.stderr).to.equal(0);
    let logs = '';
    for (let i = 0; i < 100 && !logs.includes(marker); i++) {
      await new Promise((r) => setTimeout(r, 100));
      logs = await c.logs();
    }
    expect(logs).to.match(/Restarting/);
    expect(logs).to.include(marker);
    expect((await waitFor200(c, '/liveness')).status).to.equal(200);

    // The production image keeps its bundles root-owned: a sync into it is refused.
    const prod = await start(`estafette-${name}:local`, `${run}-prod`);
    await waitFor200(prod, '/liveness');
    expect((await sync(prod.name, entry, rule.dest, changed)).code).to.not.equal(0);
  });
});
