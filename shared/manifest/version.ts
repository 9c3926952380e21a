/**
 * Build versions as Estafette renders them from the manifest's `version:` section. semver:
 * `major.minor.patch[-label]`, where patch and label are templates over `{{auto}}` (the build
 * counter), `{{branch}}` and `{{revision}}`; the label is made DNS- and semver-safe and omitted on
 * release branches. custom: the rendered `labelTemplate` is the whole version.
 */
import { compileUserRegex } from './regex.ts';
import type { ManifestVersion } from './types.ts';

/** Defaults Estafette applies to `version.semver`. */
export const SEMVER_DEFAULTS = { major: 0, minor: 0, patch: '{{auto}}', labelTemplate: '{{branch}}', releaseBranch: ['master|main'] };
/** Default of `version.custom.labelTemplate`. */
export const CUSTOM_DEFAULT_LABEL_TEMPLATE = '{{revision}}';

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
export function renderTemplate(template: string, p: VersionParams): string {
  return template.replace(/\{\{\s*(auto|branch|revision)\s*\}\}/g, (_m, name: string) =>
    name === 'auto' ? String(p.counter) : name === 'branch' ? p.branch : p.revision,
  );
}

/**
 * Makes a label usable in a semver pre-release and a DNS label: lowercase, every char outside
 * `[a-z0-9-]` becomes `-`, runs of `-` collapse, leading digits and hyphens go, at most 63 chars
 * (and no trailing hyphen, which a DNS label cannot end with).
 */
export function tidyLabel(label: string): string {
  return label
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[0-9-]+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** True when branch matches one of the releaseBranch patterns (anchored regexes; plain names match exactly). */
export function isReleaseBranch(releaseBranch: readonly string[], branch: string): boolean {
  return releaseBranch.some((pattern) => {
    if (pattern === branch) return true;
    try {
      return compileUserRegex(`^(?:${pattern})$`).test(branch);
    } catch {
      return false;
    }
  });
}

/** Renders the version of a build; with no `version:` section it is semver with all defaults. */
export function renderVersion(version: ManifestVersion | undefined, p: VersionParams): RenderedVersion {
  if (version?.custom && !version.semver) {
    const v = renderTemplate(version.custom.labelTemplate ?? CUSTOM_DEFAULT_LABEL_TEMPLATE, p);
    return { version: v, major: '', minor: '', patch: '', label: '' };
  }
  const s = { ...SEMVER_DEFAULTS, ...version?.semver };
  const major = String(s.major);
  const minor = String(s.minor);
  const patch = renderTemplate(s.patch, p);
  const label = isReleaseBranch(s.releaseBranch, p.branch) ? '' : tidyLabel(renderTemplate(s.labelTemplate, p));
  return { version: `${major}.${minor}.${patch}${label ? `-${label}` : ''}`, major, minor, patch, label };
}
