/**
 * A small HTTP server speaking the Kubernetes REST contract for the endpoints the kubernetes
 * JobRunner uses (jobs and secrets: create, get, list with labelSelector, delete with
 * propagationPolicy), with the real answers: 201 with the stored object and a uid, 409
 * AlreadyExists and 404 NotFound as `Status` objects. It records every request so tests can
 * compare what was called against the RBAC rules. Used only because no kube-apiserver can run
 * here; with KUBECONFIG set the same suite runs against a real cluster.
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';

export interface RecordedRequest {
  verb: 'create' | 'get' | 'list' | 'delete' | 'watch' | 'update' | 'patch';
  apiGroup: string;
  resource: string;
  namespace: string;
  name?: string;
  body?: any;
  query: Record<string, string>;
  at: number;
}

type Obj = { metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; creationTimestamp?: string }; [k: string]: any };

const ROUTE = /^\/(?:api\/v1|apis\/([a-z.]+)\/v1)\/namespaces\/([^/]+)\/([a-z]+)(?:\/([^/?]+))?$/;

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function matches(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels?.[k] === v;
  });
}

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  /** Stored objects by `<group>/<resource>/<namespace>/<name>`. */
  readonly objects = new Map<string, Obj>();
  private server?: Server;
  url = '';
  /** Fail the next N create calls for a resource with this HTTP status (to test retries). */
  failNext: { resource: string; status: number; count: number } | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const m = ROUTE.exec(url.pathname);
        const send = (code: number, body: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (!m) return send(404, status(404, 'NotFound', `no route ${url.pathname}`));
        const [, group = '', namespace, resource, name] = m;
        const query = Object.fromEntries(url.searchParams);
        const body = raw ? JSON.parse(raw) : undefined;
        const verb = req.method === 'POST' ? 'create' : req.method === 'DELETE' ? 'delete' : req.method === 'PUT' ? 'update' : req.method === 'PATCH' ? 'patch' : name ? 'get' : query.watch ? 'watch' : 'list';
        this.requests.push({ verb, apiGroup: group, resource, namespace, name, body, query, at: Date.now() });
        const key = (n: string) => `${group}/${resource}/${namespace}/${n}`;
        if (verb === 'create') {
          if (this.failNext && this.failNext.resource === resource && this.failNext.count > 0) {
            this.failNext.count--;
            return send(this.failNext.status, status(this.failNext.status, 'InternalError', 'injected failure'));
          }
          const obj = body as Obj;
          if (this.objects.has(key(obj.metadata.name))) return send(409, status(409, 'AlreadyExists', `${resource} "${obj.metadata.name}" already exists`));
          const stored: Obj = { ...obj, metadata: { ...obj.metadata, namespace, uid: randomUUID(), creationTimestamp: new Date().toISOString() } };
          if (resource === 'jobs') stored.status = { active: 1 };
          this.objects.set(key(obj.metadata.name), stored);
          return send(201, stored);
        }
        if (verb === 'get') {
          const obj = this.objects.get(key(name!));
          return obj ? send(200, obj) : send(404, status(404, 'NotFound', `${resource} "${name}" not found`));
        }
        if (verb === 'list') {
          const items = [...this.objects.entries()].filter(([k, o]) => k.startsWith(`${group}/${resource}/${namespace}/`) && matches(o.metadata.labels, query.labelSelector)).map(([, o]) => o);
          return send(200, { kind: resource === 'jobs' ? 'JobList' : 'SecretList', apiVersion: group ? `${group}/v1` : 'v1', metadata: {}, items });
        }
        if (verb === 'delete') {
          const obj = this.objects.get(key(name!));
          if (!obj) return send(404, status(404, 'NotFound', `${resource} "${name}" not found`));
          this.objects.delete(key(name!));
          // Garbage collection of dependents (the Secret owned by the Job).
          for (const [k, o] of this.objects) if (o.metadata && (o.metadata as any).ownerReferences?.some((r: any) => r.uid === obj.metadata.uid)) this.objects.delete(k);
          return send(200, { kind: 'Status', apiVersion: 'v1', status: 'Success', metadata: {} });
        }
        return send(405, status(405, 'MethodNotAllowed', 'not supported by the fake'));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    return this;
  }

  /** A KubeConfig pointing client-node at this server. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake', token: 'fake-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** Sets a stored Job's status (as the Job controller would). */
  setJobStatus(namespace: string, name: string, jobStatus: Record<string, unknown>): void {
    const obj = this.objects.get(`batch/jobs/${namespace}/${name}`);
    if (obj) obj.status = jobStatus;
  }

  jobs(): Obj[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith('batch/jobs/')).map(([, o]) => o);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
