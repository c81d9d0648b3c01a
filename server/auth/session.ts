import 'server-only';
import { cookies, headers } from 'next/headers';
import { cache } from 'react';
import { recordAudit } from '@/db/audit';
import { getDb } from '@/db/client';
import {
  createSession,
  deleteSession,
  hashSessionId,
  isSessionId,
  readSession,
} from '@/db/sessions';
import { checkSignIn } from '@/server/commands/sign-in';
import { getEnv } from '@/lib/env';
import { logger } from '@/server/logger';
import { forwardedOverHttps } from '@/server/http/security-headers';
import { ensureBootstrapAccounts } from './bootstrap';
import {
  clientAddress,
  clientKey,
  parseTrustedProxies,
  PEER_ADDRESS_HEADER,
} from '@/lib/auth/client-address';
import type { Principal } from '@/lib/auth/principal';
import { ABSOLUTE_SESSION_SECONDS, type SessionLimits } from '@/lib/auth/session-rules';

/**
 * The dashboard's session: the cookie holds a random id and nothing else (httpOnly,
 * SameSite=Lax, Secure over HTTPS); the `sessions` row behind it is read on every request, so
 * signing out, disabling an account or changing its role or password ends it at once, and
 * idle and absolute timeouts are enforced by the server (lib/auth/session-rules.ts).
 * A cookie that is malformed, forged or ended reads as no session.
 *
 * No sealed-cookie library is needed any more (iron-session was removed): the cookie carries
 * no data to seal, and a random 256-bit id cannot be forged.
 */

const SESSION_COOKIE = 'rxsaga_session';

export function sessionLimits(): SessionLimits {
  return {
    idleSeconds: getEnv().RXSAGA_SESSION_IDLE_MINUTES * 60,
    absoluteSeconds: ABSOLUTE_SESSION_SECONDS,
  };
}

const principalOf = (s: {
  idHash: string;
  account: { username: string; role: Principal['role'] };
}): Principal => ({
  role: s.account.role,
  actor: s.account.username,
  via: 'session',
  ref: s.idHash,
});

/** The signed-in user of this request, or null. Once per request (layout and page share it). */
export const getSession = cache(async (): Promise<Principal | null> => {
  // Read the request first: it is what makes every page that asks render per request.
  const value = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!isSessionId(value)) return null;
  const session = await readSession(getDb(), hashSessionId(value), sessionLimits());
  return session ? principalOf(session) : null;
});

/** Whether a session seen earlier is still valid (the live stream asks this periodically). */
export async function sessionStillValid(idHash: string): Promise<boolean> {
  return (await readSession(getDb(), idHash, sessionLimits(), false)) !== null;
}

/** The throttling key of this request's client: lib/auth/client-address.ts. */
export async function requestClientKey(): Promise<string> {
  const h = await headers();
  const proxies = parseTrustedProxies(getEnv().RXSAGA_TRUSTED_PROXIES)!;
  const peer = h.get(PEER_ADDRESS_HEADER);
  if (peer === null) warnNoPeer();
  return clientKey(clientAddress(peer, h.get('x-forwarded-for'), proxies));
}

let warnedNoPeer = false;
function warnNoPeer() {
  if (warnedNoPeer) return;
  warnedNoPeer = true;
  logger.warn(
    'the web process runs without scripts/lib/peer-address.mjs: every client is throttled under one key',
  );
}

let bootstrapped: Promise<unknown> | undefined;
/** The bootstrap accounts, once per process, for deployments that do not start via `npm start`. */
function bootstrapOnce(): Promise<unknown> {
  const env = getEnv();
  bootstrapped ??= ensureBootstrapAccounts(getDb(), {
    admin: env.RXSAGA_ADMIN_PASSWORD,
    viewer: env.RXSAGA_VIEWER_PASSWORD,
  }).catch((err: unknown) => {
    bootstrapped = undefined;
    throw err;
  });
  return bootstrapped;
}

async function setSessionCookie(id: string): Promise<void> {
  // Secure cookies only over HTTPS (behind a proxy that says so): a browser drops a Secure
  // cookie set over plain http://127.0.0.1, which would make local sign-in impossible.
  const secure = forwardedOverHttps(await headers());
  (await cookies()).set(SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    maxAge: ABSOLUTE_SESSION_SECONDS,
  });
}

/**
 * Starts a session for an account that has just proved who it is: by password, or by single
 * sign-on with the provider's ID token (kept so that signing out here signs out there too).
 */
export async function startSession(
  account: { id: number; username: string; role: Principal['role'] },
  idToken: string | null = null,
): Promise<Principal> {
  const id = await createSession(getDb(), account.id, idToken);
  await setSessionCookie(id);
  return principalOf({ idHash: hashSessionId(id), account });
}

/**
 * Signs in by username and password and starts the session. Used by POST /api/session and by
 * the sign-in page's action, both through server/commands/sign-in.ts (limits, check, audit).
 */
export async function signIn(input: unknown, requestId: string | null = null): Promise<Principal> {
  await bootstrapOnce();
  const client = await requestClientKey();
  const account = await checkSignIn(getDb(), input, { client, requestId });
  return startSession(account);
}

/**
 * Ends this request's session: the row is deleted, so the cookie is refused from now on.
 * Answers the ended session's ID token when it was a single sign-on (server/auth/oidc.ts then
 * ends the provider's session too), else null.
 */
export async function signOut(requestId: string | null = null): Promise<string | null> {
  const jar = await cookies();
  const value = jar.get(SESSION_COOKIE)?.value;
  jar.delete(SESSION_COOKIE);
  if (!isSessionId(value)) return null;
  const db = getDb();
  const session = await readSession(db, hashSessionId(value), sessionLimits(), false);
  await deleteSession(db, hashSessionId(value));
  if (!session) return null;
  await recordAudit(
    db,
    { actor: session.account.username, role: session.account.role, requestId },
    { action: 'session.sign_out' },
  );
  return session.idToken;
}
