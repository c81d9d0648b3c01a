/**
 * The roles of DESIGN.md, weakest first; each may do everything the ones before it may:
 * a viewer reads (patient data masked), an operator also acts on sagas, stock and faults, an
 * admin also manages accounts, API tokens and alert settings.
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `role` may do what `needed` may. */
export const hasRole = (role: Role, needed: Role): boolean =>
  ROLES.indexOf(role) >= ROLES.indexOf(needed);

export const ROLE_LABELS: Record<Role, string> = {
  viewer: 'Viewer (read-only)',
  operator: 'Operator',
  admin: 'Admin',
};
