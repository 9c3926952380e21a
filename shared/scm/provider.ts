/**
 * ScmProvider: reads a repository's `.estafette.yaml` at a revision. One implementation per
 * forge API (GitHub incl. Enterprise, GitLab, Gitea/Forgejo, Bitbucket Cloud and Server) plus
 * `local` for file:// URLs and paths (`git show <rev>:.estafette.yaml`); `scmRouter`
 * (select.ts) picks one per repository. ScmError is every failure to get an answer, with the
 * forge's HTTP status (0 when none came) and the cause kept in its message.
 */
import type { Forge } from '../events/types.ts';

export const MANIFEST_FILE = '.estafette.yaml';

export interface RepoLocation {
  repoSource: string;
  repoOwner: string;
  repoName: string;
  cloneUrl: string;
  forge?: Forge | string;
  /** The GitHub App installation the webhook named, when it named one. */
  installationId?: number;
}

export interface ScmProvider {
  readonly name: string;
  /** The manifest text at `revision`, or undefined when the repository has no manifest there. */
  getManifest(repo: RepoLocation, revision: string): Promise<string | undefined>;
  /**
   * The paths changed between `before` and `revision` (the push's changed files), when this
   * provider can tell; undefined when it cannot. Optional: providers without it leave the diff
   * to the builder's clone.
   */
  changedFiles?(repo: RepoLocation, before: string, revision: string): Promise<string[] | undefined>;
}

/** A forge API gave no usable answer: `status` is its HTTP status, or 0 when it never answered. */
export class ScmError extends Error {
  constructor(
    readonly provider: string,
    readonly status: number,
    message: string,
  ) {
    super(`${provider}: ${message}`);
    this.name = 'ScmError';
  }
}

/** True when a clone URL points at this machine's file system. */
export const isLocalRepo = (cloneUrl: string): boolean => cloneUrl.startsWith('file://') || cloneUrl.startsWith('/');
