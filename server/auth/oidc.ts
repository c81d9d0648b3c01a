import 'server-only';
import { randomBytes } from 'node:crypto';
import { cookies, headers } from 'next/headers';
import * as oidc from 'openid-client';
import { getDb } from '@/db/client';
import { OIDC_SIGN_IN_SECONDS, saveOidcSignIn, takeOidcSignIn } from '@/db/oidc-sign-ins';
import { isSessionId } from '@/db/sessions';
import type { Principal } from '@/lib/auth/principal';
import { safeReturnPath } from '@/lib/auth/return-path';
import { getEnv, oidcSettingsOf, type OidcSettings } from '@/lib/env';
import { notFound } from '@/lib/errors';
import { refuseSso, signInBySso, SsoRefused } from '@/server/commands/sso-sign-in';
import { logger } from '@/server/logger';
import { forwardedOverHttps } from '@/server/http/security-headers';
import { signOut, startSession } from './session';

/**
 * Single sign-on with OpenID Connect, through openid-client (the authorization code flow with
 * PKCE, state and nonce). GET /api/session/oidc starts it: a random id in a short-lived cookie
 * binds this browser to a server-side row (db/oidc-sign-ins.ts) with the state, nonce and code
 * verifier, and the browser goes to the provider. The provider sends it back to
 * /api/session/oidc/callback, where the row is taken (one use), openid-client checks the state,
 * exchanges the code with the verifier (the provider checks PKCE), and verifies the ID token's
 * signature, issuer, audience, expiry and nonce. server/commands/sso-sign-in.ts then maps the
 * claims to an account, and a normal server-side session starts.
 */

const OIDC_COOKIE = 'rxsaga_oidc';
const COOKIE_PATH = '/api/session/oidc';
const CALLBACK_PATH = '/api/session/oidc/callback';

export const oidcSettings = (): OidcSettings | null => oidcSettingsOf(getEnv());

let discovered: { issuer: string; config: Promise<oidc.Configuration> } | undefined;

/** The provider's metadata, discovered once per process (again after a failure). */
function configurationOf(settings: OidcSettings): Promise<oidc.Configuration> {
  if (discovered?.issuer !== settings.issuer) {
    const insecure = new URL(settings.issuer).protocol === 'http:'; // loopback only (lib/env.ts)
    const config = oidc
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        settings.clientSecret,
        undefined,
        insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        discovered = undefined;
        throw err;
      });
    discovered = { issuer: settings.issuer, config };
  }
  return discovered.config;
}

/** A path of this app at its origin as the browser reached it. */
async function ownUrlOf(path: string): Promise<string> {
  const host = (await headers()).get('host');
  if (!host) throw new SsoRefused('unavailable', 'the request names no host');
  return new URL(path, `${forwardedOverHttps(await headers()) ? 'https' : 'http'}://${host}`).href;
}

/** RXSAGA_OIDC_REDIRECT_URI, or this app's origin as the browser reached it + the callback path. */
const redirectUriOf = async (settings: OidcSettings): Promise<string> =>
  settings.redirectUri ?? ownUrlOf(CALLBACK_PATH);

function requireSettings(): OidcSettings {
  const settings = oidcSettings();
  if (!settings) throw notFound('single sign-on is not configured');
  return settings;
}

/**
 * Where the browser goes after a refused single sign-on: the sign-in page, which says why
 * (app/sign-in/page.tsx); the details are in the audit trail and the log.
 */
export const refusedLocation = (refusal: SsoRefused) => `/sign-in?sso=${refusal.code}`;

/** Starts a sign-in at the provider: the URL to send the browser to. */
export async function beginOidcSignIn(next: unknown): Promise<string> {
  const settings = requireSettings();
  let config: oidc.Configuration;
  try {
    config = await configurationOf(settings);
  } catch (err) {
    logger.warn({ err, issuer: settings.issuer }, 'OpenID provider discovery failed');
    throw new SsoRefused('unavailable', 'the sign-on provider cannot be reached: try again later');
  }
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const redirectUri = await redirectUriOf(settings);
  const browserId = randomBytes(32).toString('base64url');
  await saveOidcSignIn(getDb(), browserId, {
    state,
    nonce,
    codeVerifier,
    redirectUri,
    returnTo: safeReturnPath(next),
  });
  (await cookies()).set(OIDC_COOKIE, browserId, {
    httpOnly: true,
    // Lax: the provider sends the browser back with a top-level GET, which carries it.
    sameSite: 'lax',
    secure: forwardedOverHttps(await headers()),
    path: COOKIE_PATH,
    maxAge: OIDC_SIGN_IN_SECONDS,
  });
  return oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: settings.scopes.join(' '),
    response_type: 'code',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  }).href;
}

/** What openid-client refused, in words for the audit trail and the log. */
function describeFailure(err: unknown): string {
  if (err instanceof oidc.ResponseBodyError)
    return `the provider refused the code: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`;
  // openid-client's own message is generic ("invalid response encountered"); the check that
  // failed (state, nonce, signature, issuer…) is in its cause.
  if (err instanceof Error)
    return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  return String(err);
}

/**
 * The provider's answer, at the callback: verified, mapped to an account, and a session started.
 * Throws SsoRefused (audited) when anything is off; the route sends the browser to the sign-in
 * page with its code.
 */
export async function completeOidcSignIn(
  request: Request,
  requestId: string | null,
): Promise<{ principal: Principal; returnTo: string }> {
  const settings = requireSettings();
  const db = getDb();
  const jar = await cookies();
  const browserId = jar.get(OIDC_COOKIE)?.value;
  jar.delete({ name: OIDC_COOKIE, path: COOKIE_PATH });
  const attempt = isSessionId(browserId) ? await takeOidcSignIn(db, browserId) : null;
  if (!attempt)
    return refuseSso(
      db,
      new SsoRefused(
        'expired',
        'this sign-on was not started in this browser, was used already or took longer than 10 minutes',
      ),
      null,
      requestId,
    );

  const callbackUrl = new URL(attempt.redirectUri);
  callbackUrl.search = new URL(request.url).search;
  let claims: Record<string, unknown> & { sub: string };
  let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  try {
    const config = await configurationOf(settings);
    tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
      pkceCodeVerifier: attempt.codeVerifier,
      idTokenExpected: true,
    });
    const idToken = tokens.claims();
    if (!idToken) throw new Error('the provider sent no ID token');
    // The ID token is signed; the userinfo endpoint often carries the profile and group claims.
    const userinfo = config.serverMetadata().userinfo_endpoint
      ? await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub)
      : {};
    claims = { ...userinfo, ...idToken };
  } catch (err) {
    const denied = err instanceof oidc.AuthorizationResponseError;
    // The reason only: openid-client's error objects can carry the ID token's claims (a
    // person's name, e-mail, groups), which do not belong in the log.
    logger.warn({ reason: describeFailure(err), requestId }, 'single sign-on refused');
    return refuseSso(
      db,
      new SsoRefused(
        denied ? 'denied' : 'rejected',
        denied
          ? `the provider did not sign you in: ${(err as oidc.AuthorizationResponseError).error}`
          : `the provider's answer failed verification: ${describeFailure(err)}`,
      ),
      null,
      requestId,
    );
  }
  const account = await signInBySso(db, claims, { settings, requestId });
  return {
    principal: await startSession(account, tokens.id_token ?? null),
    returnTo: attempt.returnTo,
  };
}

/**
 * Signs out here, and for a single sign-on session at the provider too (OpenID Connect
 * RP-Initiated Logout): answers where the browser goes next, the provider's end-session
 * endpoint with the session's ID token as the hint and this app's sign-in page to come back to.
 * Our session is gone either way; when the provider has no such endpoint, cannot be reached, or
 * SSO is no longer configured, the browser goes straight to the sign-in page.
 */
export async function signOutEverywhere(requestId: string | null = null): Promise<string> {
  const signedOut = '/sign-in';
  const idToken = await signOut(requestId);
  const settings = oidcSettings();
  if (!idToken || !settings) return signedOut;
  try {
    const config = await configurationOf(settings);
    if (!config.serverMetadata().end_session_endpoint) return signedOut;
    return oidc.buildEndSessionUrl(config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: settings.postLogoutRedirectUri ?? (await ownUrlOf(signedOut)),
    }).href;
  } catch (err) {
    logger.warn({ err, issuer: settings.issuer }, 'could not sign out at the OpenID provider');
    return signedOut;
  }
}
