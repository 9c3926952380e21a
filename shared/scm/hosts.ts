/**
 * Where a forge's API lives, derived from the host a repository is on: github.com → its public
 * API, any other GitHub host → GitHub Enterprise's `https://<host>/api/v3`; GitLab instances →
 * `https://<host>/api/v4`; Gitea and Forgejo → `https://<host>/api/v1`; Bitbucket Cloud →
 * `https://api.bitbucket.org/2.0`; Bitbucket Server / Data Center → `https://<host>` (its REST
 * roots `/rest/api/1.0` and `/rest/build-status/1.0` hang below). The URL is never taken from a
 * webhook payload: a host's credentials only ever go to the API derived from that host (or the
 * URL an operator configured for it).
 */
import type { Forge } from '../events/types.ts';

/** The forges with an API (generic and local repositories have none). */
const API_FORGES = ['github', 'gitlab', 'gitea', 'bitbucket', 'bitbucket-server'] as const;
export type ApiForge = (typeof API_FORGES)[number];
export const isApiForge = (v: unknown): v is ApiForge => API_FORGES.includes(v as ApiForge);

/** The public hosts of the forges that have one. */
const PUBLIC_HOSTS: Partial<Record<ApiForge, string>> = { github: 'github.com', gitlab: 'gitlab.com', bitbucket: 'bitbucket.org' };

/** The API base URL of `forge` on `host` (no trailing slash). */
export function derivedApiUrl(forge: ApiForge, host: string): string {
  const h = host.toLowerCase();
  switch (forge) {
    case 'github':
      return h === 'github.com' ? 'https://api.github.com' : `https://${h}/api/v3`;
    case 'gitlab':
      return `https://${h}/api/v4`;
    case 'gitea':
      return `https://${h}/api/v1`;
    case 'bitbucket':
      return 'https://api.bitbucket.org/2.0';
    case 'bitbucket-server':
      return `https://${h}`;
  }
}

/** True when `host` is the public host of `forge` (github.com, gitlab.com, bitbucket.org). */
export const isPublicHost = (forge: ApiForge, host: string): boolean => PUBLIC_HOSTS[forge] === host.toLowerCase();

/**
 * The forge of a repository: the one its webhook named, else a guess from a well-known host
 * (a generic webhook of `https://github.com/o/r`), else undefined (no API to ask).
 */
export function forgeOfRepo(forge: Forge | string | undefined, host: string, declared?: ApiForge): ApiForge | undefined {
  if (isApiForge(forge)) return forge;
  if (declared) return declared;
  const h = host.toLowerCase();
  for (const [f, public_] of Object.entries(PUBLIC_HOSTS)) if (public_ === h) return f as ApiForge;
  return undefined;
}
