/**
 * Queries of the `pipelines` table: one row per repository, holding what the latest manifest
 * says (labels, release targets, the manifest text) and a summary of its newest build so the
 * pipelines list needs no join over builds (builds.ts keeps that summary in step).
 */
import type { JobStatus } from '../status/status.ts';
import type { RepoRef } from '../events/types.ts';
import { newId } from './ids.ts';
import { likeEscape, pageWindow, toPage, Where, orderBy, type Page, type PageRequest, type SortField } from './page.ts';
import type pg from 'pg';
import { withTransaction, type Db } from './pool.ts';
import { latestReleasesPerTarget, type Release } from './releases.ts';

/** A release target as the manifest declares it. */
export interface ReleaseTargetDef {
  name: string;
  actions: { name: string }[];
}

/** The newest build of a pipeline, as stored in the pipeline row. */
export interface BuildSummary {
  id: string;
  buildNumber: number;
  buildStatus: JobStatus;
  buildVersion: string;
  repoBranch: string;
  repoRevision: string;
  insertedAt: string;
  duration: number | null;
}

/** The API's Pipeline object (docs/API.md). */
export interface Pipeline extends RepoRef {
  id: string;
  labels: Record<string, string>;
  releaseTargets: (ReleaseTargetDef & { activeReleases?: Release[] })[];
  /** Clone URL of the repository and the forge it lives on ('' until a push told us). */
  cloneUrl: string;
  forge: string;
  archived: boolean;
  /** Manifest text of the latest build; only from getPipeline(…, { withManifest: true }). */
  manifest?: string;
  lastBuild: BuildSummary | null;
  insertedAt: string;
  updatedAt: string;
}

interface PipelineRow {
  id: string;
  repo_source: string;
  repo_owner: string;
  repo_name: string;
  labels: Record<string, string>;
  release_targets: ReleaseTargetDef[];
  clone_url: string;
  forge: string;
  manifest?: string;
  archived: boolean;
  last_build_id: string | null;
  last_build_number: string | null;
  last_build_status: JobStatus | null;
  last_build_version: string | null;
  last_build_branch: string | null;
  last_build_revision: string | null;
  last_build_inserted_at: Date | null;
  last_build_duration_ms: string | null;
  inserted_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, repo_source, repo_owner, repo_name, labels, release_targets, clone_url, forge, archived, last_build_id, last_build_number,
  last_build_status, last_build_version, last_build_branch, last_build_revision, last_build_inserted_at,
  last_build_duration_ms, inserted_at, updated_at`;

/** Maps a row (with or without `manifest`) to the API object. */
function toPipeline(r: PipelineRow): Pipeline {
  const p: Pipeline = {
    id: r.id,
    repoSource: r.repo_source,
    repoOwner: r.repo_owner,
    repoName: r.repo_name,
    labels: r.labels,
    releaseTargets: r.release_targets,
    cloneUrl: r.clone_url,
    forge: r.forge,
    archived: r.archived,
    lastBuild:
      r.last_build_id === null
        ? null
        : {
            id: r.last_build_id,
            buildNumber: Number(r.last_build_number),
            buildStatus: r.last_build_status as JobStatus,
            buildVersion: r.last_build_version ?? '',
            repoBranch: r.last_build_branch ?? '',
            repoRevision: r.last_build_revision ?? '',
            insertedAt: (r.last_build_inserted_at as Date).toISOString(),
            duration: r.last_build_duration_ms === null ? null : Number(r.last_build_duration_ms) / 1000,
          },
    insertedAt: r.inserted_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
  if (r.manifest !== undefined) p.manifest = r.manifest;
  return p;
}

/** What upsertPipeline writes; absent fields keep their stored value (or the default on insert). */
export interface PipelineInput extends RepoRef {
  labels?: Record<string, string>;
  releaseTargets?: ReleaseTargetDef[];
  manifest?: string;
  cloneUrl?: string;
  forge?: string;
  archived?: boolean;
}

/** Inserts the pipeline of a repository or updates the given fields; returns it. */
export async function upsertPipeline(db: Db, input: PipelineInput): Promise<Pipeline> {
  const r = await db.query<PipelineRow>(
    `INSERT INTO pipelines (id, repo_source, repo_owner, repo_name, labels, release_targets, manifest, archived, clone_url, forge)
     VALUES ($1, $2, $3, $4, COALESCE($5::JSONB, '{}'), COALESCE($6::JSONB, '[]'), COALESCE($7::TEXT, ''), COALESCE($8::BOOL, false),
       COALESCE($9::TEXT, ''), COALESCE($10::TEXT, ''))
     ON CONFLICT (repo_source, repo_owner, repo_name) DO UPDATE SET
       labels = COALESCE($5::JSONB, pipelines.labels),
       release_targets = COALESCE($6::JSONB, pipelines.release_targets),
       manifest = COALESCE($7::TEXT, pipelines.manifest),
       archived = COALESCE($8::BOOL, pipelines.archived),
       clone_url = COALESCE($9::TEXT, pipelines.clone_url),
       forge = COALESCE($10::TEXT, pipelines.forge),
       updated_at = now()
     RETURNING ${COLUMNS}`,
    [
      newId(),
      input.repoSource,
      input.repoOwner,
      input.repoName,
      input.labels === undefined ? null : JSON.stringify(input.labels),
      input.releaseTargets === undefined ? null : JSON.stringify(input.releaseTargets),
      input.manifest ?? null,
      input.archived ?? null,
      input.cloneUrl ?? null,
      input.forge ?? null,
    ],
  );
  return toPipeline(r.rows[0]!);
}

/** The pipeline of a repository, or null. `withManifest` adds the latest manifest text. */
export async function getPipeline(db: Db, ref: RepoRef, opts: { withManifest?: boolean } = {}): Promise<Pipeline | null> {
  const r = await db.query<PipelineRow>(
    `SELECT ${COLUMNS}${opts.withManifest ? ', manifest' : ''} FROM pipelines
     WHERE repo_source = $1 AND repo_owner = $2 AND repo_name = $3`,
    [ref.repoSource, ref.repoOwner, ref.repoName],
  );
  return r.rows[0] ? toPipeline(r.rows[0]) : null;
}

/** The pipeline with this id, or null. */
export async function getPipelineById(db: Db, id: string, opts: { withManifest?: boolean } = {}): Promise<Pipeline | null> {
  const r = await db.query<PipelineRow>(`SELECT ${COLUMNS}${opts.withManifest ? ', manifest' : ''} FROM pipelines WHERE id = $1`, [id]);
  return r.rows[0] ? toPipeline(r.rows[0]) : null;
}

/** Sets the archived flag; returns the pipeline, or null when it does not exist. */
export async function setPipelineArchived(db: Db, ref: RepoRef, archived: boolean): Promise<Pipeline | null> {
  const r = await db.query<PipelineRow>(
    `UPDATE pipelines SET archived = $4, updated_at = now()
     WHERE repo_source = $1 AND repo_owner = $2 AND repo_name = $3 RETURNING ${COLUMNS}`,
    [ref.repoSource, ref.repoOwner, ref.repoName, archived],
  );
  return r.rows[0] ? toPipeline(r.rows[0]) : null;
}

/**
 * Renames a pipeline (the repository was renamed or moved) together with the denormalised repo
 * columns of its builds and releases, in one transaction. Returns null when it does not exist.
 */
export async function renamePipeline(pool: pg.Pool, from: RepoRef, to: { repoOwner: string; repoName: string }): Promise<Pipeline | null> {
  return withTransaction(pool, async (tx) => {
    const r = await tx.query<PipelineRow>(
      `UPDATE pipelines SET repo_owner = $4, repo_name = $5, updated_at = now()
       WHERE repo_source = $1 AND repo_owner = $2 AND repo_name = $3 RETURNING ${COLUMNS}`,
      [from.repoSource, from.repoOwner, from.repoName, to.repoOwner, to.repoName],
    );
    const p = r.rows[0];
    if (!p) return null;
    for (const table of ['builds', 'releases']) {
      await tx.query(`UPDATE ${table} SET repo_owner = $2, repo_name = $3 WHERE pipeline_id = $1`, [p.id, to.repoOwner, to.repoName]);
    }
    return toPipeline(p);
  });
}

/** Filters of the pipelines list (docs/API.md `/api/pipelines`), already parsed. */
export interface PipelineFilter extends PageRequest {
  /** Status of the last build. */
  statuses?: JobStatus[];
  /** Only pipelines whose last build was inserted at or after this time. */
  since?: Date;
  /** Every label must match exactly. */
  labels?: Record<string, string>;
  /** Substring of owner or name, case-insensitive. */
  search?: string;
  /** Default false: archived pipelines are hidden unless asked for. */
  archived?: boolean;
  /** `-lastBuild` (default: newest build first, never-built pipelines by creation time) or `name`. */
  sort?: '-lastBuild' | 'name';
  /** An explicit order (columns of the pipelines table); wins over `sort`. */
  order?: SortField[];
  /** Only pipelines with a release target of this name. */
  releaseTarget?: string;
  /** Only pipelines with a commit by this email among their builds inserted at or after `activeSince` (Estafette's recent committers). */
  recentCommitter?: string;
  /** Only pipelines with a release started by this user at or after `activeSince` (Estafette's recent releasers). */
  recentReleaser?: string;
  /** Window of `recentCommitter`/`recentReleaser` (default 30 days before now). */
  activeSince?: Date;
}

/** One page of pipelines matching `filter`. */
export async function listPipelines(db: Db, filter: PipelineFilter = {}): Promise<Page<Pipeline>> {
  const { page, size, offset } = pageWindow(filter);
  const w = new Where();
  w.add('archived = $?', filter.archived ?? false);
  if (filter.statuses?.length) w.add('last_build_status = ANY($?::TEXT[])', filter.statuses);
  if (filter.since) w.add('last_build_inserted_at >= $?', filter.since);
  if (filter.labels && Object.keys(filter.labels).length) w.add('labels @> $?::JSONB', JSON.stringify(filter.labels));
  if (filter.search) {
    const pattern = `%${likeEscape(filter.search)}%`;
    w.add('(repo_name ILIKE $? OR repo_owner ILIKE $?)', pattern, pattern);
  }
  if (filter.releaseTarget) w.add('release_targets @> $?::JSONB', JSON.stringify([{ name: filter.releaseTarget }]));
  const activeSince = filter.activeSince ?? new Date(Date.now() - 30 * 86400e3);
  if (filter.recentCommitter) {
    w.add(`EXISTS (SELECT 1 FROM builds b WHERE b.pipeline_id = pipelines.id AND b.inserted_at >= $? AND b.commits @> $?::JSONB)`, activeSince, JSON.stringify([{ author: { email: filter.recentCommitter } }]));
  }
  if (filter.recentReleaser) {
    w.add(`EXISTS (SELECT 1 FROM releases r WHERE r.pipeline_id = pipelines.id AND r.inserted_at >= $? AND r.triggered_by = $?)`, activeSince, filter.recentReleaser);
  }
  const order = orderBy(filter.order, filter.sort === 'name' ? 'repo_name, repo_owner, repo_source' : 'last_activity_at DESC, id DESC');
  const count = await db.query<{ n: string }>(`SELECT count(*) AS n FROM pipelines ${w}`, [...w.params]);
  const rows = await db.query<PipelineRow>(`SELECT ${COLUMNS} FROM pipelines ${w} ORDER BY ${order} LIMIT ${w.param(size)} OFFSET ${w.param(offset)}`, w.params);
  return toPage(rows.rows.map(toPipeline), page, size, Number(count.rows[0]!.n));
}

/**
 * The same pipelines with `activeReleases` (newest release per target/action) filled in on
 * each release target, with one query for all of them.
 */
export async function withActiveReleases(db: Db, pipelines: Pipeline[]): Promise<Pipeline[]> {
  const releases = await latestReleasesPerTarget(
    db,
    pipelines.map((p) => p.id),
  );
  return pipelines.map((p) => ({
    ...p,
    releaseTargets: p.releaseTargets.map((t) => ({
      ...t,
      activeReleases: releases.filter((r) => r.pipelineId === p.id && r.name === t.name),
    })),
  }));
}

/** How many pipelines match `filter` (the stats count route). */
export async function countPipelines(db: Db, filter: PipelineFilter = {}): Promise<number> {
  return (await listPipelines(db, { ...filter, page: 1, size: 1 })).pagination.totalItems;
}
