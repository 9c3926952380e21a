/**
 * The container images and the developer loop: every image skaffold builds is a target of the
 * Dockerfile and every image the manifests run is one skaffold builds; runtime images run as a
 * non-root numeric user and contain production dependencies only; the dev and local profiles
 * patch what they mean to; and each function image's start command really serves /liveness.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { at, ofKind, renderedObjects, requireKubectl, ROOT } from './documents.ts';
import { effective, readDockerfile, stageChain, type Stage } from './dockerfile.ts';
import { loadFunctionsFile } from './functions-spec.ts';

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
    expect(mapped).to.deep.equal(artifacts.map((a) => a.image).filter((i) => i !== 'estafette-builder').sort());
    const prodImages = ofKind(renderedObjects('knative/overlays/production'), 'Service', 'serving.knative.dev').map((s) => String(at(s, 'spec', 'template', 'spec', 'containers', 0, 'image')));
    expect(prodImages.filter((i) => !/^[a-z0-9.-]+\.[a-z]+\/.+:.+$/.test(i)), 'registry/name:tag').to.deep.equal([]);
  });

  RUNTIME_TARGETS.forEach((target) => {
    it(`${target}: runs as a non-root numeric user and holds no dev dependencies`, () => {
      const user = effective(stages, target, 'USER');
      expect(user, 'USER').to.match(/^[1-9]\d*(:\d+)?$/);
      const chain = stageChain(stages, target).map((s) => s.name);
      expect(chain, 'built on the build stage').to.not.include('build');
      // From the build stage only built output is copied: bundles, migrations, the UI — never node_modules.
      const copies = stageChain(stages, target).flatMap((s) => s.instructions.filter((i) => i.keyword === 'COPY' && /--from=build\b/.test(i.args)));
      for (const c of copies) {
        const sources = c.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1);
        for (const src of sources) expect(src, c.args).to.match(/^\/app\/(dist|frontend\/dist)(\/|$)/);
      }
    });
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
      const text = stageChain(stages, target).filter((s) => s.name !== 'build' && s.name !== 'base').flatMap((s) => s.instructions).map((i) => i.args).join('\n');
      expect(text, target).to.not.match(/tsx/);
    }
  });

  it('builder: has git and runs the builder bundle', () => {
    const runs = stageChain(stages, 'builder').flatMap((s) => s.instructions).filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /apt-get install[^&]*\bgit\b/.test(r))).to.equal(true);
    expect(JSON.parse(String(effective(stages, 'builder', 'ENTRYPOINT')))).to.deep.equal(['node', 'dist/builder.mjs']);
    expect(existsSync(join(ROOT, 'dist/builder.mjs'))).to.equal(true);
  });

  it('frontend: serves the Vite build and answers the probe path of its Knative Service', function () {
    requireKubectl(this);
    const copies = stage('frontend')?.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args) ?? [];
    expect(copies.some((c) => /--from=build \/app\/frontend\/dist /.test(c))).to.equal(true);
    const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const svc = ofKind(renderedObjects('knative/base'), 'Service', 'serving.knative.dev').find((s) => s.metadata.name === 'frontend');
    const probe = String(at(svc, 'spec', 'template', 'spec', 'containers', 0, 'readinessProbe', 'httpGet', 'path'));
    expect(text).to.include(`location = ${probe} `);
    expect(text).to.match(/listen 8080;/);
  });

  it('builder: the after-build hook tags the fresh builder with each track, pushing only when skaffold pushes', () => {
    const [hook] = artifacts.find((a) => a.docker?.target === 'builder')?.hooks?.after ?? [];
    expect(hook?.os).to.include('linux');
    // Run the hook as skaffold would, with a `docker` that only records its arguments.
    const bin = mkdtempSync(join(tmpdir(), 'fake-docker-'));
    try {
      writeFileSync(join(bin, 'docker'), '#!/bin/sh\necho "docker $*"\n');
      chmodSync(join(bin, 'docker'), 0o755);
      const run = (push: boolean): string[] => {
        const [cmd, ...args] = hook.command;
        const env = { PATH: `${bin}:${process.env.PATH}`, SKAFFOLD_IMAGE: 'localhost:5001/estafette-builder:abc123@sha256:0123', SKAFFOLD_IMAGE_REPO: 'localhost:5001/estafette-builder', SKAFFOLD_IMAGE_TAG: 'abc123', SKAFFOLD_PUSH_IMAGE: String(push) };
        const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
        expect(r.status, r.stderr).to.equal(0);
        return r.stdout.trim().split('\n');
      };
      expect(run(true)).to.deep.equal([
        'docker tag localhost:5001/estafette-builder:abc123 localhost:5001/estafette-builder:stable',
        'docker push localhost:5001/estafette-builder:stable',
        'docker tag localhost:5001/estafette-builder:abc123 localhost:5001/estafette-builder:dev',
        'docker push localhost:5001/estafette-builder:dev',
      ]);
      expect(run(false).filter((l) => l.startsWith('docker push'))).to.deep.equal([]);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('dev profile: port-forwards to the dev overlay\'s query-api Service on its port', function () {
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

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

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

describe('deploy: each function image\'s start command serves its health routes', function () {
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
