import { beginOidcSignIn, refusedLocation } from '@/server/auth/oidc';
import { SsoRefused } from '@/server/commands/sso-sign-in';
import { publicRoute } from '@/server/http/api-route';
import { redirectTo } from '@/server/http/responses';

export const dynamic = 'force-dynamic';

/**
 * Single sign-on, step 1: `?next=/path` → 303 to the OpenID provider (state, nonce and PKCE
 * kept on the server, bound to this browser by a 10-minute cookie). 404 when not configured;
 * a provider that cannot be reached sends the browser back to the sign-in page, which says so.
 */
export const GET = publicRoute(async ({ request }) => {
  try {
    return redirectTo(await beginOidcSignIn(new URL(request.url).searchParams.get('next')));
  } catch (err) {
    if (err instanceof SsoRefused) return redirectTo(refusedLocation(err));
    throw err;
  }
});
