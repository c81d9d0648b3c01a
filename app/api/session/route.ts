import { getPrincipal } from '@/lib/auth/guards';
import { signIn, signOut } from '@/lib/auth/session';
import { unauthorized } from '@/lib/errors';
import { publicRoute } from '@/lib/http/api-route';
import { readJsonBody } from '@/lib/http/body';
import { json } from '@/lib/http/responses';

export const dynamic = 'force-dynamic';

/** Who is signed in (session or API token); 401 when nobody. */
export const GET = publicRoute(async () => {
  const principal = await getPrincipal();
  if (!principal) throw unauthorized('not signed in');
  return json(principal);
});

/**
 * Sign in: `{ password, name? }` → the session cookie; the password decides the role. After too
 * many failures from the client's address: 429 with Retry-After, the password unchecked.
 */
export const POST = publicRoute(async ({ request, requestId }) => {
  const principal = await signIn(await readJsonBody(request), requestId);
  return json(principal);
});

export const DELETE = publicRoute(async ({ requestId }) => {
  await signOut(requestId);
  return new Response(null, { status: 204 });
});
