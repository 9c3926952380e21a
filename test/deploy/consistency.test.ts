/**
 * The manifests agree with the code and with each other: knative/functions.json matches the event
 * types of shared/events/types.ts and the function folders; every function has its Knative
 * Service with the scaling of functions.json; every consumed event type has its Trigger (and no
 * Trigger delivers anything else); the SinkBinding, PingSource, Brokers, HTTPRoute and migration
 * Job point at objects that exist; the Role equals the kubernetes JobRunner's REQUIRED_RBAC; and
 * the configuration the functions get parses with their own config parser.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load } from 'js-yaml';
import { EVENT_NAMES, EVENT_PREFIX } from '../../shared/events/types.ts';
import { FUNCTION_NAMES } from '../../shared/http/functions.ts';
import { parseConfig } from '../../shared/config/config.ts';
import { DEFAULT_JOB_SPEC_OPTIONS } from '../../shared/k8s/job-spec.ts';
import { at, ofKind, renderedObjects, requireKubectl, ROOT, type K8sObject, type Located } from './documents.ts';
import { deliveredTypes, loadFunctionsFile } from './functions-spec.ts';
import { rewrittenHostFor } from './gateway-api.ts';

const file = loadFunctionsFile();
const NS = 'estafette';
const RENDERS = ['knative/base', 'knative/overlays/dev', 'knative/overlays/production'] as const;

const find = (objs: Located[], kind: string, name: string, group?: string): K8sObject | undefined => ofKind(objs, kind, group).find((o) => o.metadata.name === name);
const knativeServices = (objs: Located[]): K8sObject[] => ofKind(objs, 'Service', 'serving.knative.dev');
const annotations = (svc: K8sObject): Record<string, string> => (at(svc, 'spec', 'template', 'metadata', 'annotations') ?? {}) as Record<string, string>;
const container = (svc: K8sObject): Record<string, unknown> => at(svc, 'spec', 'template', 'spec', 'containers', 0) as Record<string, unknown>;
const envFromNames = (c: Record<string, unknown>): string[] =>
  ((c.envFrom ?? []) as Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>).map((e) => (e.configMapRef ? `configmap/${e.configMapRef.name}` : `secret/${e.secretRef?.name}`));

/** Seconds of a Go duration such as `2m30s` or `150s`. */
function goDurationSeconds(d: string): number {
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const parts = [...d.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.map((p) => p[0]).join('') !== d) throw new Error(`not a duration: ${d}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]], 0);
}

/** Functions that call the Kubernetes API: build-dispatch runs Jobs, cron-relay's housekeeping reads their state. */
const JOB_API_USERS = ['build-dispatch', 'cron-relay'];
/** Each one's own ServiceAccount (the other functions share one without API rights). */
const SERVICE_ACCOUNTS: Record<string, string> = { 'build-dispatch': 'estafette-build-dispatch', 'cron-relay': 'estafette-cron-relay' };
describe('deploy: knative/functions.json', () => {
  it('lists exactly the function folders under functions/ and FUNCTION_NAMES of shared/http/functions.ts', () => {
    const folders = readdirSync(join(ROOT, 'functions')).filter((d) => statSync(join(ROOT, 'functions', d)).isDirectory());
    const names = file.functions.map((f) => f.name);
    expect([...names].sort()).to.deep.equal([...folders].sort());
    expect([...names].sort()).to.deep.equal([...FUNCTION_NAMES].sort());
  });

  it('uses the event prefix and only event names of shared/events/types.ts', () => {
    expect(file.eventPrefix).to.equal(EVENT_PREFIX);
    const unknown = file.functions.flatMap((f) => [...f.consumes, ...f.emits].filter((n) => !(EVENT_NAMES as readonly string[]).includes(n)).map((n) => `${f.name}: ${n}`));
    expect(unknown, 'not in EVENT_NAMES').to.deep.equal([]);
    const external = file.functions.flatMap((f) => f.externalTypes.filter((t) => t.startsWith(EVENT_PREFIX)));
    expect(external, 'externalTypes are for types from outside the system').to.deep.equal([]);
  });

  it('gives event-driven functions events and HTTP functions none', () => {
    for (const f of file.functions) {
      if (f.kind === 'cloudevents') expect(deliveredTypes(file, f), f.name).to.not.be.empty;
      else expect(deliveredTypes(file, f), f.name).to.be.empty;
    }
  });

  it('has every consumed event emitted by some function, except the cron tick the PingSource brings', () => {
    const emitted = new Set(file.functions.flatMap((f) => f.emits));
    const orphans = [...new Set(file.functions.flatMap((f) => f.consumes))].filter((n) => !emitted.has(n));
    expect(orphans).to.deep.equal(['cron.tick']);
    const cron = file.functions.find((f) => f.consumes.includes('cron.tick'));
    expect(cron?.externalTypes).to.include('dev.knative.sources.ping');
  });
});

RENDERS.forEach((dir) => {
  describe(`deploy: consistency of kubectl kustomize ${dir}`, () => {
    before(function () {
      requireKubectl(this);
    });
    const objs = (): Located[] => renderedObjects(dir);

    file.functions.forEach((f) => {
      it(`${f.name}: a Knative Service with the scaling, probes, config and identity of functions.json`, () => {
        const svc = find(objs(), 'Service', f.name, 'serving.knative.dev');
        expect(svc, `no Knative Service ${f.name}`).to.exist;
        if (!svc) return;
        expect(svc.metadata.namespace).to.equal(NS);
        const a = annotations(svc);
        // The dev overlay keeps one query-api pod for skaffold's port-forward; everything else scales to zero.
        expect(a['autoscaling.knative.dev/min-scale']).to.equal(dir.endsWith('dev') && f.name === 'query-api' ? '1' : '0');
        expect(a['autoscaling.knative.dev/max-scale']).to.equal(String(f.maxScale));
        expect(a['autoscaling.knative.dev/target']).to.equal(String(f.concurrencyTarget));
        // Prometheus finds every function's GET /metrics on the port the function serves.
        expect([a['prometheus.io/scrape'], a['prometheus.io/path'], a['prometheus.io/port']], 'prometheus.io scrape annotations').to.deep.equal([
          'true',
          '/metrics',
          String(at(svc, 'spec', 'template', 'spec', 'containers', 0, 'ports', 0, 'containerPort')),
        ]);
        expect(at(svc, 'spec', 'template', 'spec', 'containerConcurrency')).to.equal(f.containerConcurrency);
        expect(at(svc, 'spec', 'template', 'spec', 'timeoutSeconds')).to.equal(f.timeoutSeconds);
        expect(svc.metadata.labels?.['networking.knative.dev/visibility'], 'reached only through the HTTPRoute').to.equal('cluster-local');
        expect(svc.metadata.labels?.['estafette.io/emits-events'] === 'true', 'SinkBinding label iff it emits').to.equal(f.emits.length > 0);
        const c = container(svc);
        expect(at(c, 'readinessProbe', 'httpGet', 'path')).to.equal('/readiness');
        expect(at(c, 'livenessProbe', 'httpGet', 'path')).to.equal('/liveness');
        // Knative rejects a probe port other than the container port; leaving it out is the safe form.
        expect(at(c, 'readinessProbe', 'httpGet', 'port')).to.equal(undefined);
        expect(at(c, 'resources', 'requests', 'cpu')).to.be.a('string');
        expect(at(c, 'resources', 'requests', 'memory')).to.be.a('string');
        expect(at(c, 'resources', 'limits', 'memory')).to.be.a('string');
        expect(at(c, 'securityContext', 'runAsNonRoot')).to.equal(true);
        expect(at(c, 'securityContext', 'allowPrivilegeEscalation')).to.equal(false);
        const expectedEnv = ['configmap/estafette-config', 'secret/estafette-secrets', ...(JOB_API_USERS.includes(f.name) ? ['configmap/estafette-builder-defaults'] : [])];
        expect(envFromNames(c).sort()).to.deep.equal(expectedEnv.sort());
        expect(at(svc, 'spec', 'template', 'spec', 'serviceAccountName')).to.equal(SERVICE_ACCOUNTS[f.name] ?? 'estafette-functions');
        expect(at(c, 'securityContext', 'readOnlyRootFilesystem'), 'functions write nothing to disk').to.equal(true);
        expect(at(c, 'securityContext', 'capabilities', 'drop')).to.deep.equal(['ALL']);
        expect(String(c.image)).to.match(new RegExp(`(^|/)(estafette-)?${f.name}(:|$)`));
      });
    });

    it('has no Knative Service besides the functions and the frontend', () => {
      expect(
        knativeServices(objs())
          .map((s) => s.metadata.name)
          .sort(),
      ).to.deep.equal([...file.functions.map((f) => f.name), 'frontend'].sort());
    });

    it('has one Trigger per (function, delivered type) and no other, each with retry, backoff and a dead-letter sink', () => {
      const triggers = ofKind(objs(), 'Trigger', 'eventing.knative.dev');
      const actual = triggers.map((t) => `${at(t, 'spec', 'subscriber', 'ref', 'name')} ← ${at(t, 'spec', 'filter', 'attributes', 'type')}`).sort();
      const expected = file.functions.flatMap((f) => deliveredTypes(file, f).map((type) => `${f.name} ← ${type}`)).sort();
      expect(actual).to.deep.equal(expected);
      for (const t of triggers) {
        const name = t.metadata.name;
        expect(at(t, 'spec', 'broker'), name).to.equal('estafette');
        expect(at(t, 'spec', 'subscriber', 'ref', 'kind'), name).to.equal('Service');
        expect(at(t, 'spec', 'subscriber', 'ref', 'apiVersion'), name).to.equal('serving.knative.dev/v1');
        expect(at(t, 'spec', 'delivery', 'retry'), name)
          .to.be.a('number')
          .greaterThan(0);
        expect(at(t, 'spec', 'delivery', 'backoffPolicy'), name).to.be.oneOf(['exponential', 'linear']);
        expect(String(at(t, 'spec', 'delivery', 'backoffDelay')), name).to.match(/^PT\d+(\.\d+)?S$/);
        const dls = at(t, 'spec', 'delivery', 'deadLetterSink', 'ref') as { kind?: string; name?: string } | undefined;
        expect(dls?.kind, name).to.equal('Broker');
        expect(find(objs(), 'Broker', String(dls?.name)), `${name}: dead-letter Broker ${dls?.name} missing`).to.exist;
        expect(dls?.name, 'dead letters must not loop back into the main Broker').to.not.equal('estafette');
      }
    });

    it('backs both Brokers with a NatsJetStreamChannel through MTChannelBasedBroker', () => {
      const brokers = ofKind(objs(), 'Broker', 'eventing.knative.dev');
      expect(brokers.map((b) => b.metadata.name).sort()).to.deep.equal(['estafette', 'estafette-dead-letters']);
      for (const b of brokers) {
        expect(b.metadata.annotations?.['eventing.knative.dev/broker.class'], b.metadata.name).to.equal('MTChannelBasedBroker');
        const ref = at(b, 'spec', 'config') as { kind: string; name: string };
        expect(ref.kind).to.equal('ConfigMap');
        const cm = find(objs(), 'ConfigMap', ref.name);
        expect(cm, `config ${ref.name} of Broker ${b.metadata.name}`).to.exist;
        const channel = load(String(at(cm, 'data', 'channel-template-spec'))) as { apiVersion: string; kind: string };
        expect([channel.apiVersion, channel.kind]).to.deep.equal(['messaging.knative.dev/v1alpha1', 'NatsJetStreamChannel']);
        // An event still being handled must not be redelivered: JetStream's ack wait outlasts the
        // longest request timeout of an event-driven function.
        const ackWait = at(channel, 'spec', 'consumerConfigTemplate', 'ackWait');
        if (ackWait !== undefined) {
          const longest = Math.max(...file.functions.filter((f) => f.kind === 'cloudevents').map((f) => f.timeoutSeconds));
          expect(goDurationSeconds(String(ackWait)), `${b.metadata.name}: ackWait ${ackWait}`).to.be.greaterThan(longest);
        }
      }
    });

    it('binds K_SINK (the Broker) into exactly the functions that emit events', () => {
      const [binding, ...more] = ofKind(objs(), 'SinkBinding', 'sources.knative.dev');
      expect(more).to.be.empty;
      expect(at(binding, 'spec', 'subject', 'apiVersion')).to.equal('serving.knative.dev/v1');
      expect(at(binding, 'spec', 'subject', 'kind')).to.equal('Service');
      expect(at(binding, 'spec', 'sink', 'ref')).to.deep.include({ kind: 'Broker', name: 'estafette' });
      const selector = at(binding, 'spec', 'subject', 'selector', 'matchLabels') as Record<string, string>;
      const selected = knativeServices(objs())
        .filter((s) => Object.entries(selector).every(([k, v]) => s.metadata.labels?.[k] === v))
        .map((s) => s.metadata.name);
      expect(selected.sort()).to.deep.equal(
        file.functions
          .filter((f) => f.emits.length > 0)
          .map((f) => f.name)
          .sort(),
      );
    });

    it('ticks every minute through the Broker to cron-relay, with data shaped like CronTickData', () => {
      const [ping, ...more] = ofKind(objs(), 'PingSource', 'sources.knative.dev');
      expect(more).to.be.empty;
      expect(at(ping, 'spec', 'schedule')).to.equal('* * * * *');
      expect(at(ping, 'spec', 'sink', 'ref')).to.deep.include({ kind: 'Broker', name: 'estafette' });
      expect(at(ping, 'spec', 'contentType')).to.equal('application/json');
      const data = JSON.parse(String(at(ping, 'spec', 'data'))) as { time?: unknown };
      expect(data.time).to.be.a('string');
      const trigger = ofKind(objs(), 'Trigger').find((t) => at(t, 'spec', 'filter', 'attributes', 'type') === 'dev.knative.sources.ping');
      expect(at(trigger, 'spec', 'subscriber', 'ref', 'name')).to.equal('cron-relay');
      // A PingSource's events carry source /apis/v1/namespaces/<namespace>/pingsources/<name>.
      expect(at(trigger, 'spec', 'filter', 'attributes', 'source')).to.equal(`/apis/v1/namespaces/${ping.metadata.namespace}/pingsources/${ping.metadata.name}`);
    });

    it("routes /api/integrations, /api/ingest, /api and / to the right Services through Knative's ingress", () => {
      const [route] = ofKind(objs(), 'HTTPRoute', 'gateway.networking.k8s.io');
      const cases: Array<[string, string]> = [
        ['/api/integrations/github/events', 'webhook-ingest'],
        ['/api/integrations/gitlab/status', 'webhook-ingest'],
        ['/api/ingest/builds/12/logs', 'log-ingest'],
        ['/api/ingest/releases/3/status', 'log-ingest'],
        ['/api/pipelines/github.com/o/r/builds/1/logs.stream', 'query-api'],
        ['/api', 'query-api'],
        ['/liveness', 'frontend'],
        ['/', 'frontend'],
        ['/pipelines/github.com/o/r', 'frontend'],
        ['/apiary', 'frontend'],
      ];
      // Links the functions build (ESTAFETTE_BASE_URL) must reach this route.
      const baseUrl = String(at(find(objs(), 'ConfigMap', 'estafette-config'), 'data', 'ESTAFETTE_BASE_URL'));
      expect(at(route, 'spec', 'hostnames')).to.include(new URL(baseUrl).hostname);
      const got = cases.map(([path]) => [path, rewrittenHostFor(route as Parameters<typeof rewrittenHostFor>[0], path)]);
      expect(got).to.deep.equal(cases.map(([path, svc]) => [path, `${svc}.${NS}.svc.cluster.local`]));
      // Every cross-namespace backend is allowed by a ReferenceGrant in its namespace.
      const refs = ((at(route, 'spec', 'rules') ?? []) as Array<{ backendRefs: Array<{ name: string; namespace?: string }> }>).flatMap((r) => r.backendRefs);
      for (const ref of refs.filter((r) => r.namespace && r.namespace !== route.metadata.namespace)) {
        const grant = ofKind(objs(), 'ReferenceGrant').find(
          (g) =>
            g.metadata.namespace === ref.namespace &&
            ((at(g, 'spec', 'from') ?? []) as Array<Record<string, string>>).some((f) => f.kind === 'HTTPRoute' && f.namespace === route.metadata.namespace) &&
            ((at(g, 'spec', 'to') ?? []) as Array<Record<string, string>>).some((t) => t.kind === 'Service' && (t.name === undefined || t.name === ref.name)),
        );
        expect(grant, `ReferenceGrant in ${ref.namespace} for ${ref.name}`).to.exist;
      }
    });

    it('runs the migrations with a function image, its config and `estafette migrate`', () => {
      const job = ofKind(objs(), 'Job', 'batch').find((j) => j.metadata.labels?.['app.kubernetes.io/name'] === 'estafette-migrate');
      expect(job).to.exist;
      const c = at(job, 'spec', 'template', 'spec', 'containers', 0) as Record<string, unknown>;
      expect(c.command).to.deep.equal(['node', 'dist/cli.mjs', 'migrate']);
      expect(existsSync(join(ROOT, 'dist/cli.mjs'))).to.equal(true);
      expect(String(c.image)).to.equal(String(container(find(objs(), 'Service', 'query-api', 'serving.knative.dev')!).image));
      expect(envFromNames(c).sort()).to.deep.equal(['configmap/estafette-config', 'secret/estafette-secrets']);
      expect(at(job, 'spec', 'template', 'spec', 'restartPolicy')).to.equal('Never');
      expect(at(job, 'spec', 'ttlSecondsAfterFinished'), 'so the next deploy can re-create it').to.be.a('number');
    });

    it('gives builder Jobs a namespace, a service account without rights, and defaults JobSpecOptions understands', () => {
      const defaults = find(objs(), 'ConfigMap', 'estafette-builder-defaults');
      const data = (defaults?.data ?? {}) as Record<string, string>;
      const jobNs = data.JOB_NAMESPACE;
      expect(find(objs(), 'Namespace', jobNs), `namespace ${jobNs}`).to.exist;
      const sa = find(objs(), 'ServiceAccount', data.BUILDER_SERVICE_ACCOUNT);
      expect(sa?.metadata.namespace).to.equal(jobNs);
      expect(sa?.automountServiceAccountToken).to.equal(false);
      const bound = ofKind(objs(), 'RoleBinding')
        .concat(ofKind(objs(), 'ClusterRoleBinding'))
        .flatMap((b) => (b.subjects ?? []) as Array<{ name: string }>);
      expect(
        bound.map((s) => s.name),
        'the builder must have no API rights',
      ).to.not.include(data.BUILDER_SERVICE_ACCOUNT);
      const options = JSON.parse(data.BUILDER_JOB_SPEC_OPTIONS) as Record<string, unknown>;
      const known = Object.keys(DEFAULT_JOB_SPEC_OPTIONS).filter((k) => !['namespace', 'builderImageRepository', 'serviceAccountName'].includes(k));
      expect(
        Object.keys(options).filter((k) => !known.includes(k)),
        'keys JobSpecOptions does not have (or that the env vars already set)',
      ).to.deep.equal([]);
      expect(at(options, 'dind', 'image')).to.be.a('string');
      expect(at(options, 'activeDeadlineSeconds')).to.be.a('number');
      expect(at(options, 'ttlSecondsAfterFinished')).to.be.a('number');
    });

    it('gives the functions a configuration their own parser accepts', () => {
      const secret = find(objs(), 'Secret', 'estafette-secrets');
      // Only the dev overlay generates the Secret (production creates its own): elsewhere check the
      // ConfigMaps together with the dev Secret's keys.
      expect(Boolean(secret), 'estafette-secrets is generated by the dev overlay only').to.equal(dir === 'knative/overlays/dev');
      const devSecret = find(renderedObjects('knative/overlays/dev'), 'Secret', 'estafette-secrets')!;
      const secretEnv = Object.fromEntries(Object.entries(((secret ?? devSecret).data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      const env: Record<string, string> = {
        ...((find(objs(), 'ConfigMap', 'estafette-config')?.data ?? {}) as Record<string, string>),
        ...((find(objs(), 'ConfigMap', 'estafette-builder-defaults')?.data ?? {}) as Record<string, string>),
        ...secretEnv,
        K_SINK: `http://broker-ingress.knative-eventing.svc.cluster.local/${NS}/estafette`,
      };
      const required = [
        'DATABASE_URL',
        'NATS_URL',
        'GITHUB_WEBHOOK_SECRET',
        'BITBUCKET_WEBHOOK_SECRET',
        'GITLAB_WEBHOOK_TOKEN',
        'GITEA_WEBHOOK_SECRET',
        'ESTAFETTE_WEBHOOK_TOKEN',
        'ESTAFETTE_SECRET_KEY',
        'ESTAFETTE_JWT_KEY',
        'ESTAFETTE_BASE_URL',
        'ESTAFETTE_LOG_INGEST_URL',
        'JOB_NAMESPACE',
        'BUILDER_IMAGE',
        'BUILDER_SERVICE_ACCOUNT',
      ];
      expect(required.filter((k) => !env[k])).to.deep.equal([]);
      const config = parseConfig(env);
      expect(config.jobRunner).to.equal('kubernetes');
      expect(config.jobNamespace).to.equal(env.JOB_NAMESPACE);
      expect(config.builderServiceAccount).to.equal(env.BUILDER_SERVICE_ACCOUNT);
      expect(new URL(config.logIngestUrl).hostname).to.equal(`log-ingest.${NS}.svc.cluster.local`);
    });

    it('grants build-dispatch exactly REQUIRED_RBAC and cron-relay exactly HOUSEKEEPING_RBAC of shared/k8s/rbac.ts, each its own ServiceAccount, in the jobs namespace, and nothing cluster-wide', async function () {
      const rbacPath = join(ROOT, 'shared/k8s/rbac.ts');
      if (!existsSync(rbacPath)) {
        console.warn('\n  !!! SKIPPED: shared/k8s/rbac.ts (REQUIRED_RBAC of the kubernetes JobRunner) does not exist yet !!!\n');
        this.skip();
      }
      type Rules = Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
      const { REQUIRED_RBAC, HOUSEKEEPING_RBAC } = (await import(pathToFileURL(rbacPath).href)) as { REQUIRED_RBAC: Rules; HOUSEKEEPING_RBAC: Rules };
      const norm = (rules: Rules): string[] => rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`)))).sort();
      const granted: Array<[string, string, Rules]> = [
        ['estafette-job-runner', 'estafette-build-dispatch', REQUIRED_RBAC],
        ['estafette-housekeeping', 'estafette-cron-relay', HOUSEKEEPING_RBAC],
      ];
      for (const [name, account, rules] of granted) {
        const role = find(objs(), 'Role', name);
        expect(role?.metadata.namespace, name).to.equal('estafette-jobs');
        expect(norm((role?.rules ?? []) as Rules), name).to.deep.equal(norm(rules));
        const binding = find(objs(), 'RoleBinding', name);
        expect(binding?.metadata.namespace).to.equal(role?.metadata.namespace);
        expect(at(binding, 'roleRef')).to.deep.include({ kind: 'Role', name });
        expect(binding?.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: account, namespace: NS }]);
        expect(find(objs(), 'ServiceAccount', account)?.metadata.namespace).to.equal(NS);
      }
      // Housekeeping needs less than dispatch: nothing it may do that dispatch may not, and no create.
      expect(norm(HOUSEKEEPING_RBAC).filter((r) => !norm(REQUIRED_RBAC).includes(r))).to.deep.equal([]);
      expect(norm(HOUSEKEEPING_RBAC).some((r) => r.endsWith(':create'))).to.equal(false);
      expect(
        ofKind(objs(), 'Role')
          .map((r) => r.metadata.name)
          .sort(),
      ).to.deep.equal(granted.map(([n]) => n).sort());
      expect(ofKind(objs(), 'ClusterRole').concat(ofKind(objs(), 'ClusterRoleBinding'))).to.be.empty;
    });
  });
});

describe('deploy: the dev overlay wires its own CockroachDB and NATS', () => {
  before(function () {
    requireKubectl(this);
  });
  const objs = (): Located[] => renderedObjects('knative/overlays/dev');

  it('points NATS_URL at the NATS Service and DATABASE_URL at the CockroachDB Service', () => {
    const config = find(objs(), 'ConfigMap', 'estafette-config')?.data as Record<string, string>;
    const secret = find(objs(), 'Secret', 'estafette-secrets')?.data as Record<string, string>;
    const serviceHost = (name: string, ns: string, port: number): string => {
      const svc = ofKind(objs(), 'Service', '').find((s) => s.metadata.name === name && s.metadata.namespace === ns);
      expect(svc, `Service ${ns}/${name}`).to.exist;
      expect(((at(svc, 'spec', 'ports') ?? []) as Array<{ port: number }>).map((p) => p.port)).to.include(port);
      return `${name}.${ns}.svc.cluster.local:${port}`;
    };
    expect(new URL(config.NATS_URL).host).to.equal(serviceHost('nats', 'nats-io', 4222));
    const db = new URL(Buffer.from(secret.DATABASE_URL, 'base64').toString('utf8'));
    expect(db.host).to.equal(serviceHost('cockroachdb', NS, 26257));
    const cockroach = find(objs(), 'StatefulSet', 'cockroachdb');
    const env = (at(cockroach, 'spec', 'template', 'spec', 'containers', 0, 'env') ?? []) as Array<{ name: string; value: string }>;
    expect(env.find((e) => e.name === 'COCKROACH_DATABASE')?.value, 'the database DATABASE_URL names is created').to.equal(db.pathname.slice(1));
  });

  it('runs NATS with JetStream enabled', () => {
    const conf = String(at(find(objs(), 'ConfigMap', 'nats'), 'data', 'nats.conf'));
    expect(conf).to.match(/jetstream\s*\{/);
  });

  it("selects query-api's pods for the port-forward Service", () => {
    const svc = find(objs(), 'Service', 'query-api-dev', '');
    expect(at(svc, 'spec', 'selector')).to.deep.equal({ 'serving.knative.dev/service': 'query-api' });
  });
});

describe('deploy: docs/deploy-knative.md', () => {
  it('lists every key of the Secret the functions read, since production creates it by hand', function () {
    requireKubectl(this);
    const doc = readFileSync(join(ROOT, 'docs/deploy-knative.md'), 'utf8');
    const secret = find(renderedObjects('knative/overlays/dev'), 'Secret', 'estafette-secrets');
    const missing = Object.keys((secret?.data ?? {}) as Record<string, string>).filter((k) => !doc.includes(`\`${k}\``));
    expect(missing).to.deep.equal([]);
  });
});
