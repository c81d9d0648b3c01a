import 'server-only';
import { headers } from 'next/headers';
import { forbidden, unauthorized } from '@/lib/errors';
import { isApiToken } from './credentials';
import { API_TOKEN_ACTOR, type Principal } from './principal';
import { getSession } from './session';

/**
 * Who is asking, for route handlers and server actions alike (both can read the request's
 * headers and cookies). An Authorization header is decisive: a wrong token is refused rather
 * than falling back to a cookie, so a misconfigured client finds out at once.
 */
export async function getPrincipal(): Promise<Principal | null> {
  const authorization = (await headers()).get('authorization');
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match?.[1] || !isApiToken(match[1])) throw unauthorized('invalid API token');
    return { role: 'operator', actor: API_TOKEN_ACTOR, via: 'token' };
  }
  return getSession();
}

/** Any signed-in user or the API token; throws 401 otherwise. */
export async function requireViewer(): Promise<Principal> {
  const principal = await getPrincipal();
  if (!principal) throw unauthorized();
  return principal;
}

/** An operator (session or API token); a viewer gets 403. */
export async function requireOperator(): Promise<Principal> {
  const principal = await requireViewer();
  if (principal.role !== 'operator')
    throw forbidden('this needs an operator; you are signed in as a viewer');
  if (principal.via === 'session') await assertSameOrigin();
  return principal;
}

/**
 * Defence in depth for cookie-authenticated writes: SameSite=Lax already keeps the cookie off
 * cross-site POSTs, and Next checks server actions' origin; this refuses a cross-origin write
 * through a route handler too. Requests with no Origin (curl, same-origin GET) are not browsers'
 * cross-site writes.
 */
async function assertSameOrigin(): Promise<void> {
  const h = await headers();
  const origin = h.get('origin');
  if (!origin) return;
  const host = h.get('x-forwarded-host') ?? h.get('host');
  let originHost: string | null = null;
  try {
    originHost = new URL(origin).host;
  } catch {
    // "null" or garbage: treat as foreign
  }
  if (!host || originHost !== host) throw forbidden('cross-origin request refused');
}
