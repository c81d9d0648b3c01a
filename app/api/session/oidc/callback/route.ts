import { completeOidcSignIn, refusedLocation } from '@/server/auth/oidc';
import { SsoRefused } from '@/server/commands/sso-sign-in';
import { publicRoute } from '@/server/http/api-route';
import { redirectTo } from '@/server/http/responses';

export const dynamic = 'force-dynamic';

/**
 * Single sign-on, step 2: the provider sends the browser here with `code` and `state`. Verified
 * (state, PKCE, the ID token and its nonce), mapped to an account and a session: 303 to the
 * page the sign-in started from (a path of this app). Refused: 303 to `/sign-in?sso=<why>`.
 */
export const GET = publicRoute(async ({ request, requestId }) => {
  try {
    const { returnTo } = await completeOidcSignIn(request, requestId);
    return redirectTo(returnTo);
  } catch (err) {
    if (err instanceof SsoRefused) return redirectTo(refusedLocation(err));
    throw err;
  }
});
