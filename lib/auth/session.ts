import 'server-only';
import { getIronSession, type SessionOptions } from 'iron-session';
import { cookies, headers } from 'next/headers';
import { recordAudit } from '@/db/audit';
import { getDb } from '@/db/client';
import { checkSignIn } from '@/lib/commands/sign-in';
import { getEnv } from '@/lib/env';
import { unauthorized } from '@/lib/errors';
import { clientKey } from './client-address';
import { signInConfigured } from './credentials';
import type { Principal, Role } from './principal';

/**
 * The dashboard's session: an iron-session cookie (sealed and authenticated with
 * RXSAGA_SESSION_SECRET), httpOnly and SameSite=Lax, so pages and server actions of the same
 * site carry it and other sites' forms and scripts do not. Stateless: signing out drops the
 * cookie; a leaked cookie is good until it expires (8 h).
 */

const SESSION_TTL_SECONDS = 8 * 60 * 60;
export const SESSION_COOKIE = 'rxsaga_session';

interface SessionData {
  role?: Role;
  actor?: string;
  signedInAt?: string;
}

async function sessionOptions(): Promise<SessionOptions | null> {
  // Read the request first, whatever the configuration: it is what makes every page that asks
  // for the session render per request. A build without the secret in its environment would
  // otherwise prerender the dashboard as a fixed redirect to sign-in.
  const h = await headers();
  const secret = getEnv().RXSAGA_SESSION_SECRET;
  if (!secret) return null;
  // Secure cookies only over HTTPS (directly or behind a proxy that says so): a browser drops a
  // Secure cookie set over plain http://127.0.0.1, which would make local sign-in impossible.
  const secure = (h.get('x-forwarded-proto') ?? '').split(',')[0]?.trim() === 'https';
  return {
    cookieName: SESSION_COOKIE,
    password: secret,
    ttl: SESSION_TTL_SECONDS,
    cookieOptions: { httpOnly: true, sameSite: 'lax', secure, path: '/' },
  };
}

async function openSession() {
  const options = await sessionOptions();
  return options ? getIronSession<SessionData>(await cookies(), options) : null;
}

/** The signed-in user of this request, or null. Tampered or expired cookies read as empty. */
export async function getSession(): Promise<Principal | null> {
  const session = await openSession();
  if (!session?.role || !session.actor) return null;
  return { role: session.role, actor: session.actor, via: 'session' };
}

/**
 * Signs in and starts the session. Used by POST /api/session and by the dashboard's sign-in
 * action, both through lib/commands/sign-in.ts: the brute-force limit (per client address, from
 * this request's X-Forwarded-For), the password check and the audit records.
 */
export async function signIn(input: unknown, requestId: string | null = null): Promise<Principal> {
  const session = await openSession();
  if (!session || !signInConfigured())
    throw unauthorized('sign-in is not configured on this server');
  const client = clientKey((await headers()).get('x-forwarded-for'), getEnv().RXSAGA_PROXY_HOPS);
  const { role, actor } = await checkSignIn(getDb(), input, { client, requestId });
  session.role = role;
  session.actor = actor;
  session.signedInAt = new Date().toISOString();
  await session.save();
  return { role, actor, via: 'session' };
}

export async function signOut(requestId: string | null = null): Promise<void> {
  const session = await openSession();
  if (!session) return;
  const { role, actor } = session;
  session.destroy();
  if (role && actor)
    await recordAudit(getDb(), { actor, role, requestId }, { action: 'session.sign_out' });
}
