import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { revokeApiToken } from '@/server/commands/api-tokens';
import { adminRoute } from '@/server/http/api-route';

export const dynamic = 'force-dynamic';

/** Revokes the token: 204, and the next request with it is a 401. */
export const DELETE = adminRoute<{ name: string }>(async ({ params, principal, requestId }) => {
  await revokeApiToken(getDb(), params.name, auditActorOf(principal, requestId));
  return new Response(null, { status: 204 });
});
