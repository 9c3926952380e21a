/**
 * Roles of signed-in users and API clients, lowest first: a viewer reads, an operator also
 * rebuilds, cancels and releases, an administrator may do everything. Who gets which role comes
 * from configuration (emails and groups mapped to roles, a default for everyone else).
 */

/** Every role, lowest first; the union and its guard follow. */
export const ROLES = ['viewer', 'operator', 'administrator'] as const;
export type Role = (typeof ROLES)[number];
export const isRole = (v: unknown): v is Role => ROLES.includes(v as Role);

/** True when `role` is `needed` or above. */
export const hasRole = (role: Role, needed: Role): boolean => ROLES.indexOf(role) >= ROLES.indexOf(needed);

/** Configured role assignment. Emails compare case-insensitively; the highest matching role wins. */
export interface RoleRules {
  /** e.g. `{"alice@example.com": "administrator"}`. */
  emails?: Record<string, Role>;
  /** Group names from the identity provider (OIDC `groups` claim, GitHub `org` or `org/team`). */
  groups?: Record<string, Role>;
  /** Role of everyone else who signs in (default viewer). */
  defaultRole?: Role;
}

/** The role of a user with this email and these groups. */
export function roleFor(rules: RoleRules, email: string, groups: readonly string[] = []): Role {
  let role: Role = rules.defaultRole ?? 'viewer';
  const raise = (r: Role | undefined) => {
    if (r && hasRole(r, role)) role = r;
  };
  const lower = email.toLowerCase();
  for (const [e, r] of Object.entries(rules.emails ?? {})) if (e.toLowerCase() === lower) raise(r);
  for (const g of groups) raise(rules.groups?.[g]);
  return role;
}
