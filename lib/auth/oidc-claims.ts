import { ROLES, type Role } from './roles';
import { usernameSchema } from './account-rules';

/**
 * What a single sign-on (OpenID Connect) answer means here: the role its claims map to and the
 * username it asks for. Pure: server/auth/oidc.ts verifies the answer (openid-client), and
 * server/commands/sso-sign-in.ts acts on what these functions decide.
 */

/** Claim values per role: `{ admin: ['rx-admins'], operator: [...], viewer: [...] }`. */
export type RoleValues = Record<Role, string[]>;

/** A comma-separated list of claim values (group names are case-sensitive: kept as given). */
export function parseClaimValues(value: string | undefined): string[] {
  return [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v.length > 0),
    ),
  ];
}

/** A value listed under two roles would make a person's role depend on the order of checks. */
export function overlappingValues(values: RoleValues): string[] {
  const seen = new Map<string, Role>();
  const twice = new Set<string>();
  for (const role of ROLES)
    for (const v of values[role]) {
      if (seen.has(v)) twice.add(v);
      seen.set(v, role);
    }
  return [...twice];
}

/**
 * A claim by name; a dotted name reaches into objects (Keycloak's `realm_access.roles`). A
 * claim name with a dot of its own (`https://example.com/roles`) is tried whole first.
 */
export function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (name in claims) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The claim's values: a string (one value, or space-separated as in `scope`-like claims) or an array of strings. */
function valuesOf(claim: unknown): string[] {
  if (typeof claim === 'string') return claim.split(/\s+/).filter((v) => v.length > 0);
  if (Array.isArray(claim)) return claim.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * The strongest role any of the claim's values maps to, or null when none does (the sign-in is
 * refused then: an account nobody gave a role must not get one by default).
 */
export function roleFromClaims(
  claims: Record<string, unknown>,
  claimName: string,
  mapping: RoleValues,
): Role | null {
  const have = new Set(valuesOf(claimAt(claims, claimName)));
  for (const role of [...ROLES].reverse()) if (mapping[role].some((v) => have.has(v))) return role;
  return null;
}

/** The username the provider asks for (lowercased), or null when it is missing or not a valid one. */
export function usernameFromClaims(
  claims: Record<string, unknown>,
  claimName: string,
): string | null {
  const value = claimAt(claims, claimName);
  if (typeof value !== 'string') return null;
  const parsed = usernameSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** A display name: the `name` claim, else given and family names; trimmed to the account rule's 100. */
export function displayNameFromClaims(claims: Record<string, unknown>): string | null {
  const given = [claims.given_name, claims.family_name].filter(
    (v): v is string => typeof v === 'string' && v.trim() !== '',
  );
  const name =
    typeof claims.name === 'string' && claims.name.trim() ? claims.name : given.join(' ');
  const trimmed = name.trim().slice(0, 100);
  return trimmed === '' ? null : trimmed;
}

/** What accounts.sso_subject holds: the issuer and its subject, which together never change. */
export const ssoSubjectOf = (issuer: string, sub: string) => `${issuer} ${sub}`;
