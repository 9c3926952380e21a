/**
 * The `PIPELINE` and `BUILD` arguments of `estafette builds` and `logs`, turned into API paths.
 * PIPELINE is `source/owner/repo` as the UI shows it (`github.com/estafette/ci-api`,
 * `local/owner/repo`; an owner may hold slashes, as GitLab groups do), or `owner/repo` when only
 * one pipeline has that owner and name. BUILD is a build number (as `estafette builds` lists it),
 * a build id, a 40-hex revision (its latest build) or absent (the latest build).
 */
import type { Build } from '../../shared/db/builds.ts';
import type { Pipeline } from '../../shared/db/pipelines.ts';
import { UsageError } from '../args.ts';
import { ApiError, type ApiClient } from './api-client.ts';

/** A pipeline's identity. */
export interface PipelineRef {
  repoSource: string;
  repoOwner: string;
  repoName: string;
}

/** `source/owner/repo`. */
export const pipelineName = (p: PipelineRef): string => `${p.repoSource}/${p.repoOwner}/${p.repoName}`;

/** The API path of a pipeline (`/api/pipelines/:source/:owner/:repo`). */
export const pipelinePath = (p: PipelineRef): string => `/api/pipelines/${encodeURIComponent(p.repoSource)}/${encodeURIComponent(p.repoOwner)}/${encodeURIComponent(p.repoName)}`;

/** The web UI's page of a build. */
export const buildPageUrl = (baseUrl: string, p: PipelineRef, buildId: string): string => `${baseUrl}${pipelinePath(p).replace(/^\/api/, '')}/builds/${encodeURIComponent(buildId)}`;

interface Page<T> {
  items: T[];
  pagination: { totalItems: number };
}

/** Resolves the PIPELINE argument (see the module header). */
export async function resolvePipeline(api: ApiClient, arg: string): Promise<PipelineRef> {
  const parts = arg.replace(/^\/+|\/+$/g, '').split('/');
  if (parts.length < 2 || parts.some((p) => !p)) throw new UsageError(`PIPELINE is source/owner/repo (e.g. github.com/estafette/estafette-ci-api), not '${arg}'`);
  if (parts.length >= 3) return { repoSource: parts[0]!, repoOwner: parts.slice(1, -1).join('/'), repoName: parts[parts.length - 1]! };
  const [owner, name] = parts as [string, string];
  const found = await api.get<Page<Pipeline>>('/api/pipelines', { 'filter[search]': name, 'page[size]': 100 });
  const matches = found.items.filter((p) => p.repoOwner === owner && p.repoName === name);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new ApiError(404, `no pipeline ${owner}/${name} on ${api.url} (give it as source/owner/repo)`);
  throw new ApiError(409, `${owner}/${name} is ambiguous: ${matches.map(pipelineName).join(', ')}`);
}

/** Resolves the BUILD argument of pipeline `p` (see the module header). */
export async function resolveBuild(api: ApiClient, p: PipelineRef, arg: string | undefined): Promise<Build> {
  const path = pipelinePath(p);
  const latest = async (): Promise<Build | undefined> => (await api.get<Page<Build>>(`${path}/builds`, { 'page[size]': 1 })).items[0];
  if (arg === undefined) {
    const b = await latest();
    if (!b) throw new ApiError(404, `${pipelineName(p)} has no builds yet`);
    return b;
  }
  if (/^[0-9a-f]{40}$/i.test(arg) || /^\d{10,19}$/.test(arg)) return api.get<Build>(`${path}/builds/${arg.toLowerCase()}`);
  if (!/^#?\d{1,9}$/.test(arg)) throw new UsageError(`BUILD is a build number, a build id or a 40-hex revision, not '${arg}'`);
  const number = Number(arg.replace('#', ''));
  // Builds are listed newest first and numbered without gaps, so build N sits at position
  // (latest - N); a page of one there finds it without scanning the whole history.
  const top = await latest();
  if (top && number >= 1 && number <= top.buildNumber) {
    const at = (await api.get<Page<Build>>(`${path}/builds`, { 'page[size]': 1, 'page[number]': top.buildNumber - number + 1 })).items[0];
    if (at?.buildNumber === number) return at;
  }
  throw new ApiError(404, `${pipelineName(p)} has no build ${number}${top ? ` (the latest is ${top.buildNumber})` : ''}`);
}
