/**
 * `kubectl kustomize` renders knative/, its base and both overlays without error; every rendered
 * object names its namespace (the base sets no `namespace:` transformer, so a forgotten one would
 * land in whatever namespace kubectl points at) and appears once.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { KUSTOMIZATIONS, parseDocuments, renderKustomization, requireKubectl, ROOT } from './documents.ts';

const CLUSTER_SCOPED = ['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition'];

describe('deploy: kubectl kustomize', () => {
  before(function () {
    requireKubectl(this);
  });
  KUSTOMIZATIONS.forEach((dir) => {
    it(`renders ${dir} with every namespaced object in a namespace, each once`, () => {
      const objects = parseDocuments(renderKustomization(dir), dir).map((l) => l.object);
      expect(objects.length).to.be.greaterThan(10);
      const unplaced = objects.filter((o) => !CLUSTER_SCOPED.includes(o.kind) && !o.metadata.namespace).map((o) => `${o.kind}/${o.metadata.name}`);
      expect(unplaced).to.deep.equal([]);
      const keys = objects.map((o) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      expect(keys.filter((k, i) => keys.indexOf(k) !== i)).to.deep.equal([]);
    });
  });

  it("reports a broken kustomization with kubectl's message", () => {
    const dir = mkdtempSync(join(tmpdir(), 'kustomize-'));
    try {
      writeFileSync(join(dir, 'kustomization.yaml'), 'resources:\n  - missing.yaml\n');
      expect(() => renderKustomization(relative(ROOT, dir))).to.throw(/kubectl kustomize .* failed: .*missing\.yaml/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
