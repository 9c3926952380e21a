/**
 * Sign-in settings: off in local mode (everyone is an administrator); on when ESTAFETTE_AUTH
 * holds the providers, API clients and role rules as JSON. On Knative (K_SERVICE set) sign-in is
 * required: without ESTAFETTE_AUTH the function refuses to start, unless it says `off` on
 * purpose (a throwaway development cluster). The JSON looks like
 *   {"providers": [{"name": "github", "kind": "github", "clientId": "…", "clientSecret": "…"}],
 *    "clients": [{"id": "ci-bot", "secret": "…", "role": "operator"}],
 *    "roles": {"emails": {"alice@example.com": "administrator"}, "groups": {"my-org": "operator"}, "defaultRole": "viewer"}}
 * (`"secureCookies": false` drops the cookie's Secure flag, for a plain-http test install only.)
 */
import { ConfigError } from '../errors/http-error.ts';
import { GITHUB_ENDPOINTS, type OAuthProvider } from './oauth.ts';
import { isRole, type Role, type RoleRules } from './roles.ts';

/** An API client: signs in with id/secret at POST /api/auth/client/login. */
export interface ApiClient {
  id: string;
  secret: string;
  role: Role;
  name?: string;
}

/** How query-api authenticates and authorises. */
export type AuthSettings =
  | { enabled: false }
  | {
      enabled: true;
      /** HS256 key of session tokens (ESTAFETTE_JWT_KEY). */
      jwtKey: string;
      /** Public base URL; the providers redirect back to `<baseUrl>/api/auth/handle/<name>`. */
      baseUrl: string;
      providers: OAuthProvider[];
      clients: ApiClient[];
      roles: RoleRules;
      /** Cookie `Secure` flag (default true; false only for plain-http tests). */
      secureCookies?: boolean;
    };

const VAR = 'ESTAFETTE_AUTH';

function str(o: Record<string, unknown>, k: string, at: string, fallback?: string): string {
  const v = o[k] ?? fallback;
  if (typeof v !== 'string' || !v) throw new ConfigError(VAR, `${at}.${k} must be a non-empty string`);
  return v;
}

/** What ESTAFETTE_AUTH may be absent for: `required` (on Knative) makes an absent value an error. */
export interface AuthRequirement {
  required: boolean;
}

/** The value that turns sign-in off where it is otherwise required. */
const AUTH_OFF = 'off';

/**
 * Parses ESTAFETTE_AUTH: `off` → sign-in off; absent → off, or a ConfigError when `required`;
 * JSON → on. Throws ConfigError naming the bad field.
 */
export function parseAuthSettings(env: NodeJS.ProcessEnv, jwtKey: string | undefined, baseUrl: string, requirement: AuthRequirement = { required: false }): AuthSettings {
  const raw = env[VAR]?.trim();
  if (raw === AUTH_OFF) return { enabled: false };
  if (!raw) {
    if (requirement.required) throw new ConfigError(VAR, `is required on Knative (K_SERVICE is set): sign-in providers and API clients as JSON (docs/API.md), or '${AUTH_OFF}' to run without sign-in on purpose`);
    return { enabled: false };
  }
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new ConfigError(VAR, 'is not valid JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(VAR, 'must be a JSON object');
  if (!jwtKey) throw new ConfigError('ESTAFETTE_JWT_KEY', `is required when ${VAR} turns sign-in on`);
  const o = v as Record<string, unknown>;
  const list = (k: string) => {
    const a = o[k] ?? [];
    if (!Array.isArray(a) || a.some((e) => e === null || typeof e !== 'object')) throw new ConfigError(VAR, `${k} must be an array of objects`);
    return a as Record<string, unknown>[];
  };
  const providers = list('providers').map((p, i): OAuthProvider => {
    const at = `providers[${i}]`;
    const kind = p.kind ?? (p.name === 'github' ? 'github' : 'oidc');
    if (kind !== 'github' && kind !== 'oidc') throw new ConfigError(VAR, `${at}.kind must be github or oidc`);
    const d: Partial<Record<keyof typeof GITHUB_ENDPOINTS, string>> = kind === 'github' ? GITHUB_ENDPOINTS : {};
    const name = str(p, 'name', at);
    if (!/^[a-z0-9-]+$/.test(name)) throw new ConfigError(VAR, `${at}.name must be lowercase letters, digits and dashes`);
    return {
      name,
      kind,
      ...(typeof p.label === 'string' ? { label: p.label } : {}),
      clientId: str(p, 'clientId', at),
      clientSecret: str(p, 'clientSecret', at),
      authorizeUrl: str(p, 'authorizeUrl', at, d.authorizeUrl),
      tokenUrl: str(p, 'tokenUrl', at, d.tokenUrl),
      userInfoUrl: str(p, 'userInfoUrl', at, d.userInfoUrl),
      ...(Array.isArray(p.scopes) ? { scopes: p.scopes.map(String) } : {}),
    };
  });
  const clients = list('clients').map((c, i): ApiClient => {
    const at = `clients[${i}]`;
    const role = c.role ?? 'viewer';
    if (!isRole(role)) throw new ConfigError(VAR, `${at}.role must be viewer, operator or administrator`);
    return { id: str(c, 'id', at), secret: str(c, 'secret', at), role, ...(typeof c.name === 'string' ? { name: c.name } : {}) };
  });
  const r = (o.roles ?? {}) as Record<string, unknown>;
  const roleMap = (k: string): Record<string, Role> => {
    const m = (r[k] ?? {}) as Record<string, unknown>;
    for (const [key, role] of Object.entries(m)) if (!isRole(role)) throw new ConfigError(VAR, `roles.${k}.${key} must be viewer, operator or administrator`);
    return m as Record<string, Role>;
  };
  const defaultRole = r.defaultRole ?? 'viewer';
  if (!isRole(defaultRole)) throw new ConfigError(VAR, 'roles.defaultRole must be viewer, operator or administrator');
  if (o.secureCookies !== undefined && typeof o.secureCookies !== 'boolean') throw new ConfigError(VAR, 'secureCookies must be true or false');
  return {
    enabled: true,
    jwtKey,
    baseUrl,
    providers,
    clients,
    roles: { emails: roleMap('emails'), groups: roleMap('groups'), defaultRole },
    ...(o.secureCookies === false ? { secureCookies: false } : {}),
  };
}
