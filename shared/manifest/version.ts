/**
 * Build versions as Estafette renders them from the manifest's `version:` section (rules of
 * estafette-ci-manifest `version.go` and the builder's `envvar_helper.go`). semver:
 * `major.minor.patch[-label]`, where patch and label are templates over `{{auto}}` (the build
 * counter), `{{branch}}` and `{{revision}}`; the label is made DNS- and semver-safe, keeps a
 * leading digit by getting a prefix, and is omitted on release branches or when empty. custom: the
 * rendered `labelTemplate` is the whole version. Empty templates mean their defaults, as there.
 */
import { compileUserRegex } from './regex.ts';
import type { ManifestVersion } from './types.ts';

/** Defaults Estafette applies to `version.semver` (an empty value gets its default too). */
const SEMVER_DEFAULTS = { major: 0, minor: 0, patch: '{{auto}}', labelTemplate: '{{branch}}', releaseBranch: ['master', 'main'] };
/** Default of `version.custom.labelTemplate` (also for an empty one). */
const CUSTOM_DEFAULT_LABEL_TEMPLATE = '{{revision}}';
/** The largest major/minor Estafette accepts (Go's int). */
export const MAX_VERSION_NUMBER = 9223372036854775807n;
/** Longest DNS label, and so the longest version label. */
const MAX_LABEL_LENGTH = 63;

/** What a version template can refer to. */
export interface VersionParams {
  branch: string;
  revision: string;
  /** The build counter of the pipeline (`{{auto}}`). */
  counter: number;
}

/** A rendered version and its parts (strings, as they end up in ESTAFETTE_BUILD_VERSION_*). */
export interface RenderedVersion {
  version: string;
  major: string;
  minor: string;
  patch: string;
  label: string;
}

/** Replaces `{{auto}}`, `{{branch}}` and `{{revision}}` (spaces inside the braces allowed). */
function renderTemplate(template: string, p: VersionParams): string {
  return template.replace(/\{\{\s*(auto|branch|revision)\s*\}\}/g, (_m, name: string) => (name === 'auto' ? String(p.counter) : name === 'branch' ? p.branch : p.revision));
}

/** Lowercase, `[a-z0-9-]` only, `--` halved, no leading/trailing hyphen, no leading digit. */
function dnsLabelChars(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      // One pass, as Estafette's strings.Replace: "---" becomes "--", not "-".
      .replaceAll('--', '-')
      .replace(/^-+|-+$/g, '')
      .replace(/^[0-9-]+/, '')
  );
}

/**
 * Makes a rendered label usable as a semver pre-release and a DNS label, exactly as Estafette:
 * lowercase, runs of chars outside `[a-z0-9-]` become one `-`, `--` becomes `-` (one pass),
 * hyphens trimmed, leading digits and hyphens dropped, cut to 63 chars. Estafette does not trim a
 * hyphen left at the cut, so neither is it trimmed here: versions must be the same.
 */
export function tidyLabel(label: string): string {
  return dnsLabelChars(label).slice(0, MAX_LABEL_LENGTH);
}

/**
 * The label of a semver version before the release-branch rule: a rendered label that starts
 * with a digit (branch `19.1.0`, `{{auto}}`) is kept by prefixing the name of the template's first
 * placeholder (`branch-19-1-0`), or `label-` when the template has none, then tidied.
 */
function renderLabel(labelTemplate: string, p: VersionParams): string {
  const label = renderTemplate(labelTemplate, p);
  if (!/^[0-9]/.test(label)) return tidyLabel(label);
  const first = /\{\{([^}]+)\}\}/.exec(labelTemplate);
  return tidyLabel(`${first ? first[1] : 'label'}-${label}`);
}

/**
 * A branch name usable in DNS labels and image tags (ESTAFETTE_GIT_BRANCH_DNS_SAFE), by the
 * builder's rule: the label rule without a prefix — a leading digit is dropped, so `19.1.0`
 * gives an empty value — and hyphens trimmed again after the cut.
 */
export function dnsSafe(branch: string): string {
  return dnsLabelChars(branch)
    .slice(0, MAX_LABEL_LENGTH)
    .replace(/^-+|-+$/g, '');
}

/** True when branch matches one of the releaseBranch patterns (anchored regexes; plain names match exactly). */
function isReleaseBranch(releaseBranch: readonly string[], branch: string): boolean {
  return releaseBranch.some((raw) => {
    const pattern = raw.trim();
    if (pattern === branch) return true;
    try {
      return compileUserRegex(`^(?:${pattern})$`).test(branch);
    } catch {
      return false;
    }
  });
}

/**
 * The decimal text of a major or minor: numbers as digits (never `1e+23`), text as written.
 * The linter keeps values within 0…MAX_VERSION_NUMBER.
 */
function versionNumberText(n: number | string | undefined, fallback: number): string {
  if (n === undefined) return String(fallback);
  if (typeof n === 'string') return n;
  return Number.isSafeInteger(n) ? String(n) : Number.isFinite(n) ? BigInt(Math.trunc(n)).toString() : String(fallback);
}

/**
 * Renders the version of a build; with no `version:` section it is semver with all defaults.
 * When both `custom` and `semver` are set, custom wins, as in Estafette.
 */
export function renderVersion(version: ManifestVersion | undefined, p: VersionParams): RenderedVersion {
  if (version?.custom) {
    const v = renderTemplate(version.custom.labelTemplate || CUSTOM_DEFAULT_LABEL_TEMPLATE, p);
    return { version: v, major: '', minor: '', patch: '', label: '' };
  }
  const s = version?.semver ?? {};
  const major = versionNumberText(s.major, SEMVER_DEFAULTS.major);
  const minor = versionNumberText(s.minor, SEMVER_DEFAULTS.minor);
  const patch = renderTemplate(s.patch || SEMVER_DEFAULTS.patch, p);
  const written = (s.releaseBranch ?? []).filter((b) => b.trim() !== '');
  const releaseBranch = written.length ? written : SEMVER_DEFAULTS.releaseBranch;
  const label = isReleaseBranch(releaseBranch, p.branch) ? '' : renderLabel(s.labelTemplate || SEMVER_DEFAULTS.labelTemplate, p);
  return { version: `${major}.${minor}.${patch}${label ? `-${label}` : ''}`, major, minor, patch, label };
}
