/**
 * Field checks of the Gateway API objects in knative/ (HTTPRoute, ReferenceGrant):
 * `@kubernetes-models/gateway-api` is not installed, so the fields the manifests use are checked
 * here against the Gateway API v1 spec (gateway.networking.k8s.io), unknown fields included.
 * Also resolves which rule of an HTTPRoute serves a path, by the spec's precedence (the longest
 * matching PathPrefix wins; prefixes match whole path segments).
 */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** RFC 1123 subdomain, as Gateway API host names and Kubernetes names use. */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Gateway API Duration (GEP-2257). */
const GATEWAY_DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;

function onlyKeys(obj: Record<string, unknown>, allowed: string[], path: string, errors: string[]): void {
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) errors.push(`${path}.${key} is not a Gateway API field`);
}

function checkBackendRef(ref: unknown, path: string, errors: string[]): void {
  if (!isObject(ref)) return void errors.push(`${path} must be an object`);
  onlyKeys(ref, ['group', 'kind', 'name', 'namespace', 'port', 'weight', 'filters'], path, errors);
  if (typeof ref.name !== 'string' || !DNS_SUBDOMAIN.test(ref.name)) errors.push(`${path}.name must be a DNS name`);
  if ((ref.kind ?? 'Service') === 'Service' && !(Number.isInteger(ref.port) && (ref.port as number) > 0 && (ref.port as number) < 65536)) {
    errors.push(`${path}.port is required for a Service backend (1-65535)`);
  }
  if (ref.group !== undefined && typeof ref.group !== 'string') errors.push(`${path}.group must be a string`);
}

function checkFilter(filter: unknown, path: string, errors: string[]): void {
  if (!isObject(filter)) return void errors.push(`${path} must be an object`);
  onlyKeys(filter, ['type', 'urlRewrite', 'requestHeaderModifier', 'responseHeaderModifier', 'requestRedirect', 'requestMirror', 'extensionRef'], path, errors);
  const types = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef'];
  if (!types.includes(filter.type as string)) errors.push(`${path}.type must be one of ${types.join(', ')}`);
  if (filter.type === 'URLRewrite') {
    const rw = filter.urlRewrite;
    if (!isObject(rw)) return void errors.push(`${path}.urlRewrite is required for type URLRewrite`);
    onlyKeys(rw, ['hostname', 'path'], `${path}.urlRewrite`, errors);
    if (rw.hostname !== undefined && (typeof rw.hostname !== 'string' || !DNS_SUBDOMAIN.test(rw.hostname))) errors.push(`${path}.urlRewrite.hostname must be a DNS name`);
  }
}

function checkMatch(match: unknown, path: string, errors: string[]): void {
  if (!isObject(match)) return void errors.push(`${path} must be an object`);
  onlyKeys(match, ['path', 'headers', 'queryParams', 'method'], path, errors);
  const p = match.path;
  if (p === undefined) return;
  if (!isObject(p)) return void errors.push(`${path}.path must be an object`);
  onlyKeys(p, ['type', 'value'], `${path}.path`, errors);
  if (!['Exact', 'PathPrefix', 'RegularExpression'].includes(p.type as string)) errors.push(`${path}.path.type must be Exact, PathPrefix or RegularExpression`);
  if (typeof p.value !== 'string' || !p.value.startsWith('/')) errors.push(`${path}.path.value must start with /`);
}

/** Every problem of an HTTPRoute (gateway.networking.k8s.io/v1). */
export function checkHttpRoute(obj: unknown): string[] {
  const errors: string[] = [];
  if (!isObject(obj)) return ['an HTTPRoute must be an object'];
  if (obj.apiVersion !== 'gateway.networking.k8s.io/v1') errors.push('apiVersion must be gateway.networking.k8s.io/v1');
  onlyKeys(obj, ['apiVersion', 'kind', 'metadata', 'spec'], 'HTTPRoute', errors);
  const spec = obj.spec;
  if (!isObject(spec)) return [...errors, 'spec is required'];
  onlyKeys(spec, ['parentRefs', 'hostnames', 'rules'], 'spec', errors);
  if (!Array.isArray(spec.parentRefs) || spec.parentRefs.length === 0) errors.push('spec.parentRefs must name at least one Gateway');
  else
    spec.parentRefs.forEach((ref, i) => {
      if (!isObject(ref)) return void errors.push(`spec.parentRefs[${i}] must be an object`);
      onlyKeys(ref, ['group', 'kind', 'name', 'namespace', 'sectionName', 'port'], `spec.parentRefs[${i}]`, errors);
      if (typeof ref.name !== 'string' || ref.name === '') errors.push(`spec.parentRefs[${i}].name is required`);
    });
  if (spec.hostnames !== undefined) {
    if (!Array.isArray(spec.hostnames)) errors.push('spec.hostnames must be an array');
    else
      spec.hostnames.forEach((h, i) => {
        if (typeof h !== 'string' || !DNS_SUBDOMAIN.test(h.replace(/^\*\./, ''))) errors.push(`spec.hostnames[${i}] must be a DNS name`);
      });
  }
  if (!Array.isArray(spec.rules) || spec.rules.length === 0) return [...errors, 'spec.rules must have at least one rule'];
  if (spec.rules.length > 16) errors.push('spec.rules allows at most 16 rules');
  spec.rules.forEach((rule, i) => {
    const path = `spec.rules[${i}]`;
    if (!isObject(rule)) return void errors.push(`${path} must be an object`);
    onlyKeys(rule, ['name', 'matches', 'filters', 'backendRefs', 'timeouts', 'retry', 'sessionPersistence'], path, errors);
    (Array.isArray(rule.matches) ? rule.matches : []).forEach((m, j) => checkMatch(m, `${path}.matches[${j}]`, errors));
    (Array.isArray(rule.filters) ? rule.filters : []).forEach((f, j) => checkFilter(f, `${path}.filters[${j}]`, errors));
    if (!Array.isArray(rule.backendRefs) || rule.backendRefs.length === 0) errors.push(`${path}.backendRefs must name a backend`);
    else rule.backendRefs.forEach((b, j) => checkBackendRef(b, `${path}.backendRefs[${j}]`, errors));
    if (rule.timeouts !== undefined) {
      if (!isObject(rule.timeouts)) errors.push(`${path}.timeouts must be an object`);
      else {
        onlyKeys(rule.timeouts, ['request', 'backendRequest'], `${path}.timeouts`, errors);
        for (const [k, v] of Object.entries(rule.timeouts)) if (typeof v !== 'string' || !GATEWAY_DURATION.test(v)) errors.push(`${path}.timeouts.${k} must be a duration such as 600s`);
      }
    }
  });
  return errors;
}

/** Every problem of a ReferenceGrant (gateway.networking.k8s.io/v1beta1). */
export function checkReferenceGrant(obj: unknown): string[] {
  const errors: string[] = [];
  if (!isObject(obj)) return ['a ReferenceGrant must be an object'];
  if (obj.apiVersion !== 'gateway.networking.k8s.io/v1beta1') errors.push('apiVersion must be gateway.networking.k8s.io/v1beta1');
  const spec = obj.spec;
  if (!isObject(spec)) return [...errors, 'spec is required'];
  onlyKeys(spec, ['from', 'to'], 'spec', errors);
  for (const side of ['from', 'to'] as const) {
    const list = spec[side];
    if (!Array.isArray(list) || list.length === 0) {
      errors.push(`spec.${side} must have at least one entry`);
      continue;
    }
    list.forEach((e, i) => {
      const path = `spec.${side}[${i}]`;
      if (!isObject(e)) return void errors.push(`${path} must be an object`);
      onlyKeys(e, side === 'from' ? ['group', 'kind', 'namespace'] : ['group', 'kind', 'name'], path, errors);
      if (typeof e.group !== 'string') errors.push(`${path}.group is required ("" for the core group)`);
      if (typeof e.kind !== 'string' || e.kind === '') errors.push(`${path}.kind is required`);
      if (side === 'from' && (typeof e.namespace !== 'string' || e.namespace === '')) errors.push(`${path}.namespace is required`);
    });
  }
  return errors;
}

interface Rule {
  matches?: Array<{ path?: { type?: string; value?: string } }>;
  filters?: Array<{ type?: string; urlRewrite?: { hostname?: string } }>;
}

/** Whether a PathPrefix matches a request path: whole segments only (`/api` matches `/api/x`, not `/apix`). */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  return p === '' || path === p || path.startsWith(`${p}/`);
}

/**
 * The host an HTTPRoute rewrites a request for `path` to (the Knative Service that serves it), by
 * the longest matching PathPrefix; undefined when no rule matches.
 */
export function rewrittenHostFor(route: { spec?: { rules?: Rule[] } }, path: string): string | undefined {
  let best: { length: number; host?: string } | undefined;
  for (const rule of route.spec?.rules ?? []) {
    for (const m of rule.matches ?? []) {
      const value = m.path?.value ?? '/';
      const type = m.path?.type ?? 'PathPrefix';
      const hit = type === 'Exact' ? value === path : type === 'PathPrefix' && prefixMatches(value, path);
      if (hit && (!best || value.length > best.length)) {
        best = { length: value.length, host: rule.filters?.find((f) => f.type === 'URLRewrite')?.urlRewrite?.hostname };
      }
    }
  }
  return best?.host;
}
