/**
 * The RunInfo of a new build: the facts the dispatcher knows when it has taken the build's
 * number (the counter) — repository, branch, revision, trigger — turned into what compilePlan
 * needs: the version rendered from the manifest with that counter (or the version of a rebuild),
 * and the counters, which for a new build all equal its number (it holds the highest number of
 * the pipeline, so also of its branch). `estafette plan` previews a build through this too.
 */
import type { TriggerInfo } from '../events/types.ts';
import type { RunInfo } from './compile.ts';
import type { Manifest } from './types.ts';
import { renderVersion } from './version.ts';

/** What is known about a build before it is compiled. */
export interface BuildFacts {
  repoSource: string;
  repoOwner: string;
  repoName: string;
  branch: string;
  revision: string;
  /** The build's number from the pipeline's counter ({{auto}}). */
  counter: number;
  /** A rebuild keeps this version instead of rendering a new one. */
  version?: string;
  buildId?: string;
  /** When the build was created (ESTAFETTE_BUILD_DATETIME). */
  datetime?: string;
  ciServerBaseUrl?: string;
  trigger?: TriggerInfo;
  namedTriggers?: Record<string, Record<string, string>>;
}

/** The RunInfo of a build of a valid manifest. */
export function buildRun(manifest: Manifest, f: BuildFacts): RunInfo {
  const rendered = renderVersion(manifest.version, { branch: f.branch, revision: f.revision, counter: f.counter });
  const run: RunInfo = {
    kind: 'build',
    repoSource: f.repoSource,
    repoOwner: f.repoOwner,
    repoName: f.repoName,
    branch: f.branch,
    revision: f.revision,
    version: f.version ? { ...rendered, version: f.version } : rendered,
    counters: { current: f.counter, max: f.counter, maxCurrentBranch: f.counter },
  };
  if (f.buildId !== undefined) run.buildId = f.buildId;
  if (f.datetime !== undefined) run.datetime = f.datetime;
  if (f.ciServerBaseUrl !== undefined) run.ciServerBaseUrl = f.ciServerBaseUrl;
  if (f.trigger) run.trigger = f.trigger;
  if (f.namedTriggers) run.namedTriggers = f.namedTriggers;
  return run;
}
