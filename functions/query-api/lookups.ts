/**
 * The objects a query-api route names in its path — a pipeline by source/owner/repo, one of its
 * builds by id or revision, one of its releases by id — each a 404 when it is not there or not
 * the pipeline's. Shared by every route family (reads, logs, actions, approvals).
 */
import type pg from 'pg';
import type { Principal } from '../../shared/auth/access.ts';
import { findBuildByRevision, getBuild, type Build } from '../../shared/db/builds.ts';
import { NotFoundError } from '../../shared/db/errors.ts';
import { isId } from '../../shared/db/ids.ts';
import { getPipeline, type Pipeline } from '../../shared/db/pipelines.ts';
import { getRelease, type Release } from '../../shared/db/releases.ts';
import type { JobKind } from '../../shared/db/stages.ts';
import type { RouteContext } from './router.ts';

type Ctx = RouteContext<Principal>;

/** A 40-hex commit id (a build named by revision). */
export const REVISION = /^[0-9a-f]{40}$/i;

/** A build or release named by a route, with a way to re-read its status. */
export interface JobRef {
  id: string;
  status: () => Promise<Build['buildStatus'] | null>;
}

/** The lookups of the objects routes name. */
export interface Lookups {
  pipelineOf(c: Ctx): Promise<Pipeline>;
  buildOf(c: Ctx, opts?: { withManifest?: boolean }): Promise<Build>;
  releaseOf(c: Ctx): Promise<Release>;
  jobOf(c: Ctx, kind: JobKind): Promise<JobRef>;
}

/** The lookups on `pool`. */
export function lookups(pool: pg.Pool): Lookups {
  const pipelineOf = async (c: Ctx): Promise<Pipeline> => {
    const ref = { repoSource: c.params.source!, repoOwner: c.params.owner!, repoName: c.params.repo! };
    const pl = await getPipeline(pool, ref);
    if (!pl) throw new NotFoundError(`pipeline ${ref.repoSource}/${ref.repoOwner}/${ref.repoName}`);
    return pl;
  };
  const buildOf = async (c: Ctx, opts: { withManifest?: boolean } = {}): Promise<Build> => {
    const pl = await pipelineOf(c);
    const id = c.params.id!;
    const b = REVISION.test(id) ? await findBuildByRevision(pool, pl.id, id.toLowerCase()) : isId(id) ? await getBuild(pool, id, opts) : null;
    if (!b || b.pipelineId !== pl.id) throw new NotFoundError(`build ${id.slice(0, 40)}`);
    if (opts.withManifest && b.manifest === undefined) return (await getBuild(pool, b.id, opts))!;
    return b;
  };
  const releaseOf = async (c: Ctx): Promise<Release> => {
    const pl = await pipelineOf(c);
    const id = c.params.id!;
    const r = isId(id) ? await getRelease(pool, id) : null;
    if (!r || r.pipelineId !== pl.id) throw new NotFoundError(`release ${id.slice(0, 40)}`);
    return r;
  };
  const jobOf = async (c: Ctx, kind: JobKind): Promise<JobRef> => {
    if (kind === 'build') {
      const b = await buildOf(c);
      return { id: b.id, status: async () => (await getBuild(pool, b.id))?.buildStatus ?? null };
    }
    const r = await releaseOf(c);
    return { id: r.id, status: async () => (await getRelease(pool, r.id))?.releaseStatus ?? null };
  };
  return { pipelineOf, buildOf, releaseOf, jobOf };
}
