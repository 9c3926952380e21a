/**
 * Every YAML document under knative/ — each raw file and what `kubectl kustomize` renders for the
 * base and both overlays — validates against the real schema of its kind; the NatsJetStreamChannel
 * inside the Brokers' channel-template configs passes its field check. The broken-object cases
 * show each validator does reject what it should.
 */
import { expect } from 'chai';
import { load } from 'js-yaml';
import { KUSTOMIZATIONS, ofKind, rawObjects, renderedObjects, requireKubectl, type Located } from './documents.ts';
import { checkNatsJetStreamChannel } from './nats-jetstream-channel.ts';
import { validateObject } from './schemas.ts';

const sources: Array<{ name: string; objects: () => Located[]; rendered: boolean }> = [
  { name: 'raw files under knative/', objects: rawObjects, rendered: false },
  ...KUSTOMIZATIONS.map((dir) => ({ name: `kubectl kustomize ${dir}`, objects: () => renderedObjects(dir), rendered: true })),
];

describe('deploy: Kubernetes schemas of knative/', () => {
  sources.forEach((source) => {
    it(`${source.name}: every object validates against its schema`, function () {
      if (source.rendered) requireKubectl(this);
      const objects = source.objects();
      expect(objects.length, 'no objects found').to.be.greaterThan(10);
      const problems = objects.flatMap((l) => validateObject(l.object).map((e) => `${l.origin} ${l.object.kind}/${l.object.metadata.name}: ${e}`));
      expect(problems, problems.join('\n')).to.deep.equal([]);
    });

    it(`${source.name}: every channel template is a valid NatsJetStreamChannel`, function () {
      if (source.rendered) requireKubectl(this);
      const templates = ofKind(source.objects(), 'ConfigMap')
        .filter((cm) => typeof (cm.data as Record<string, unknown> | undefined)?.['channel-template-spec'] === 'string')
        .map((cm) => ({ name: cm.metadata.name, channel: load((cm.data as Record<string, string>)['channel-template-spec']) }));
      expect(templates.length, 'no channel-template-spec found').to.be.greaterThan(0);
      const problems = templates.flatMap((t) => checkNatsJetStreamChannel(t.channel).map((e) => `${t.name}: ${e}`));
      expect(problems, problems.join('\n')).to.deep.equal([]);
    });
  });

  const knativeService = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'x' },
    spec: { template: { spec: { containers: [{ image: 'i' }] } } },
  };
  const broken: Array<{ name: string; object: Record<string, unknown>; error: RegExp }> = [
    {
      name: 'Knative Service with a string containerConcurrency',
      object: { ...knativeService, spec: { template: { spec: { containerConcurrency: 'ten', containers: [{ image: 'i' }] } } } },
      error: /containerConcurrency must be integer/,
    },
    { name: 'Knative Service without containers', object: { ...knativeService, spec: { template: { spec: {} } } }, error: /containers/ },
    {
      name: 'Trigger with a string retry',
      object: { apiVersion: 'eventing.knative.dev/v1', kind: 'Trigger', metadata: { name: 't' }, spec: { broker: 'b', delivery: { retry: 'many' }, subscriber: { uri: 'http://x' } } },
      error: /retry must be integer/,
    },
    {
      name: 'PingSource with a numeric schedule',
      object: { apiVersion: 'sources.knative.dev/v1', kind: 'PingSource', metadata: { name: 'p' }, spec: { schedule: 5, sink: { uri: 'http://x' } } },
      error: /schedule must be string/,
    },
    { name: 'Job without a pod template', object: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: {} }, error: /template/ },
    { name: 'Role rule without verbs', object: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['secrets'] }] }, error: /verbs/ },
    { name: 'Service named with capitals', object: { ...knativeService, metadata: { name: 'Query_API' } }, error: /not a valid Service name/ },
    { name: 'unknown kind', object: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }, error: /no schema for example.com\/v1\/Widget/ },
    {
      name: 'HTTPRoute with a bad path type',
      object: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'r' },
        spec: { parentRefs: [{ name: 'g' }], rules: [{ matches: [{ path: { type: 'Prefix', value: '/' } }], backendRefs: [{ name: 's', port: 80 }] }] },
      },
      error: /path.type/,
    },
    {
      name: 'HTTPRoute Service backend without a port',
      object: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { parentRefs: [{ name: 'g' }], rules: [{ backendRefs: [{ name: 's' }] }] } },
      error: /port is required/,
    },
    {
      name: 'HTTPRoute with a misspelt field',
      object: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: { parentRefs: [{ name: 'g' }], rules: [{ backendRef: [{ name: 's', port: 80 }] }] } },
      error: /backendRef is not a Gateway API field/,
    },
    {
      name: 'ReferenceGrant without from',
      object: { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'g' }, spec: { to: [{ group: '', kind: 'Service' }] } },
      error: /spec.from/,
    },
  ];
  broken.forEach((c) => {
    it(`rejects: ${c.name}`, () => {
      expect(validateObject(c.object).join('\n')).to.match(c.error);
    });
  });

  const channels: Array<{ name: string; channel: unknown; error: RegExp }> = [
    { name: 'wrong API version', channel: { apiVersion: 'messaging.knative.dev/v1', kind: 'NatsJetStreamChannel' }, error: /apiVersion must be messaging.knative.dev\/v1alpha1/ },
    { name: 'InMemoryChannel instead', channel: { apiVersion: 'messaging.knative.dev/v1alpha1', kind: 'InMemoryChannel' }, error: /kind must be NatsJetStreamChannel/ },
    {
      name: "retention WorkQueue (the NATS CLI name, not eventing-natss')",
      channel: { apiVersion: 'messaging.knative.dev/v1alpha1', kind: 'NatsJetStreamChannel', spec: { stream: { config: { retention: 'WorkQueue' } } } },
      error: /retention must be one of Limits, Interest, Work/,
    },
    { name: 'maxAge in ISO-8601', channel: { apiVersion: 'messaging.knative.dev/v1alpha1', kind: 'NatsJetStreamChannel', spec: { stream: { config: { maxAge: 'P7D' } } } }, error: /maxAge must be a Go duration/ },
    { name: 'misspelt stream field', channel: { apiVersion: 'messaging.knative.dev/v1alpha1', kind: 'NatsJetStreamChannel', spec: { stream: { config: { maxage: '1h' } } } }, error: /maxage is not a field/ },
    { name: 'six replicas', channel: { apiVersion: 'messaging.knative.dev/v1alpha1', kind: 'NatsJetStreamChannel', spec: { stream: { config: { replicas: 6 } } } }, error: /replicas must be from 1 to 5/ },
    {
      name: 'unknown deliver policy',
      channel: { apiVersion: 'messaging.knative.dev/v1alpha1', kind: 'NatsJetStreamChannel', spec: { consumerConfigTemplate: { deliverPolicy: 'Everything' } } },
      error: /deliverPolicy must be one of/,
    },
    { name: 'spec field at the wrong level', channel: { apiVersion: 'messaging.knative.dev/v1alpha1', kind: 'NatsJetStreamChannel', spec: { config: {} } }, error: /spec.config is not a field/ },
  ];
  channels.forEach((c) => {
    it(`rejects NatsJetStreamChannel: ${c.name}`, () => {
      expect(checkNatsJetStreamChannel(c.channel).join('\n')).to.match(c.error);
    });
  });
});
