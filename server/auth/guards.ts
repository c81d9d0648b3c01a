import 'server-only';
import { headers } from 'next/headers';
import { findTokenBySecret, tokenExists } from '@/db/api-tokens';
import { getDb } from '@/db/client';
import { forbidden, unauthorized } from '@/lib/errors';
import { isApiToken } from '@/lib/auth/credentials';
import { API_TOKEN_ACTOR, type Principal } from '@/lib/auth/principal';
import { hasRole, type Role } from '@/lib/auth/roles';
import { getSession, sessionStillValid } from './session';

/**
 * Who is asking, for route handlers and server actions alike (both can read the request's
 * headers and cookies). An Authorization header is decisive: a wrong token is refused rather
 * than falling back to a cookie, so a misconfigured client finds out at once. Tokens are
 * RXSAGA_API_TOKEN (an operator, actor `api`) or a named token made by an admin (its name
 * and role).
 */
export async function getPrincipal(): Promise<Principal | null> {
  const authorization = (await headers()).get('authorization');
  if (authorization !== null) {
    const match = /^Bearer\s+(\S{1,200})\s*$/i.exec(authorization);
    if (!match?.[1]) throw unauthorized('invalid API token');
    if (isApiToken(match[1])) return { role: 'operator', actor: API_TOKEN_ACTOR, via: 'token' };
    const token = await findTokenBySecret(getDb(), match[1]);
    if (!token) throw unauthorized('invalid API token');
    return { role: token.role, actor: token.name, via: 'token', ref: String(token.id) };
  }
  return getSession();
}

async function requireRole(role: Role, what: string): Promise<Principal> {
  const principal = await getPrincipal();
  if (!principal) throw unauthorized();
  if (!hasRole(principal.role, role))
    throw forbidden(`this needs ${what}; you are signed in as ${principal.role}`);
  return principal;
}

/** Any signed-in user or token; throws 401 otherwise. */
export const requireViewer = () => requireRole('viewer', 'a viewer');

/** An operator or admin (session or token); a viewer gets 403. */
export const requireOperator = () => requireRole('operator', 'an operator');

/** An admin: accounts, API tokens, alert settings. */
export const requireAdmin = () => requireRole('admin', 'an admin');

/**
 * Login CSRF and cross-site writes: every write that a browser could make with its cookies
 * (any request without an Authorization header, signing in included) must come from this
 * site. `Sec-Fetch-Site`, when the browser sends it, must be same-origin (or `none`: typed by
 * the user); `Origin`, when sent, must be this host. SameSite=Lax already keeps the cookie off
 * cross-site POSTs, and Next.js checks server actions' origin; this covers route handlers.
 * Requests with neither header (curl, scripts) are not a browser's cross-site writes.
 */
export async function assertSameOriginWrite(): Promise<void> {
  const h = await headers();
  if (h.get('authorization') !== null) return;
  const site = h.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none')
    throw forbidden('cross-site request refused');
  const origin = h.get('origin');
  if (origin === null) return;
  const host = h.get('x-forwarded-host') ?? h.get('host');
  let originHost: string | null = null;
  try {
    originHost = new URL(origin).host;
  } catch {
    // "null" or garbage: treat as foreign
  }
  if (!host || originHost !== host) throw forbidden('cross-origin request refused');
}

/**
 * Whether the credential a principal was read from still holds: its session not ended or
 * revoked, its named token not revoked. For long requests (the live stream) that outlive the
 * check made when they started.
 */
export async function principalStillValid(principal: Principal): Promise<boolean> {
  if (principal.ref === undefined) return true; // RXSAGA_API_TOKEN: valid while configured
  if (principal.via === 'session') return sessionStillValid(principal.ref);
  return tokenExists(getDb(), Number(principal.ref));
}
