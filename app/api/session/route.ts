import { getPrincipal } from '@/server/auth/guards';
import { signIn, signOut } from '@/server/auth/session';
import { unauthorized } from '@/lib/errors';
import { publicRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

export const dynamic = 'force-dynamic';

/** Who is signed in (session or token); 401 when nobody. */
export const GET = publicRoute(async () => {
  const principal = await getPrincipal();
  if (!principal) throw unauthorized('not signed in');
  return json({ username: principal.actor, role: principal.role, via: principal.via });
});

/**
 * Sign in: `{ username, password }` → `{ username, role }` and the session cookie; 401 for a
 * wrong name or password alike. After too many failures from the client's address (or, for a
 * client that failed itself, on the account): 429 with Retry-After, the password unchecked.
 */
export const POST = publicRoute(async ({ request, requestId }) => {
  const principal = await signIn(await readJsonBody(request), requestId);
  return json({ username: principal.actor, role: principal.role });
});

/** Sign out: the session is deleted on the server, so its cookie is refused from now on. */
export const DELETE = publicRoute(async ({ requestId }) => {
  await signOut(requestId);
  return new Response(null, { status: 204 });
});
