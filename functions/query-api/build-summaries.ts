/**
 * What query-api adds to builds in list answers beyond their row: `estimatedDuration` for a
 * build still to finish (the median of its pipeline's recent succeeded builds, from which the UI
 * shows the time left — one query per answer, only when a build in it is active), and for the
 * pipelines list the commits and trigger of each last build (the pipeline row keeps only a
 * summary). Kept apart from the routes so the answers' shapes can change in one place.
 */
import type pg from 'pg';
import { buildOrigins, typicalBuildDurations, type Build } from '../../shared/db/builds.ts';
import type { Pipeline } from '../../shared/db/pipelines.ts';
import { isFinalJobStatus } from '../../shared/status/status.ts';
import { buildJson, pipelineJson } from './estafette-shapes.ts';

/** The enrichments of build answers, on `pool`. */
export function buildSummaries(pool: pg.Pool) {
  /** The builds, each active one with `estimatedDuration` when its pipeline has succeeded builds. */
  const withEstimates = async <B extends { buildStatus: Build['buildStatus'] }>(builds: B[], pipelineOf: (b: B) => string): Promise<Array<B & { estimatedDuration?: number }>> => {
    const active = builds.filter((b) => !isFinalJobStatus(b.buildStatus));
    if (!active.length) return builds;
    const typical = await typicalBuildDurations(pool, active.map(pipelineOf));
    return builds.map((b) => {
      const d = isFinalJobStatus(b.buildStatus) ? undefined : typical.get(pipelineOf(b));
      return d === undefined ? b : { ...b, estimatedDuration: d };
    });
  };
  /** A page of builds with estimates, in Estafette's shape. */
  const buildPage = async <P extends { items: Build[] }>(page: P) => ({ ...page, items: (await withEstimates(page.items, (b) => b.pipelineId)).map(buildJson) });
  /** One build with its estimate, in Estafette's shape. */
  const buildOne = async (b: Build) => buildJson((await withEstimates([b], (x) => x.pipelineId))[0]!);
  /** Pipelines whose last build says who and what started it, and how long it should take, in Estafette's shape. */
  const withLastBuildDetails = async (pipelines: Pipeline[]) => {
    const origins = await buildOrigins(
      pool,
      pipelines.flatMap((pl) => (pl.lastBuild ? [pl.lastBuild.id] : [])),
    );
    const estimated = await withEstimates(
      pipelines.flatMap((pl) => (pl.lastBuild ? [{ ...pl.lastBuild, pipelineId: pl.id }] : [])),
      (b) => b.pipelineId,
    );
    const byId = new Map(estimated.map((b) => [b.id, b]));
    return pipelines.map((pl) => {
      if (!pl.lastBuild) return pipelineJson({ ...pl, lastBuild: null });
      const { pipelineId: _, ...summary } = byId.get(pl.lastBuild.id)!;
      const origin = origins.get(pl.lastBuild.id);
      return pipelineJson({
        ...pl,
        lastBuild: { ...summary, commits: origin?.commits ?? [], trigger: origin?.trigger ?? null, startedAt: origin?.startedAt ?? null, updatedAt: origin?.updatedAt ?? summary.insertedAt },
      });
    });
  };
  return { withEstimates, buildPage, buildOne, withLastBuildDetails };
}
