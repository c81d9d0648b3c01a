import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { requestClientKey, startSession } from '@/server/auth/session';
import { changeOwnPassword } from '@/server/commands/accounts';
import { forbidden } from '@/lib/errors';
import { viewerRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

export const dynamic = 'force-dynamic';

/**
 * The signed-in account changes its own password: `{ currentPassword, newPassword }` → 200
 * `{ username, role }`. Every session of the account ends; this one is replaced by a new one.
 */
export const PUT = viewerRoute(async ({ request, principal, requestId }) => {
  if (principal.via !== 'session') throw forbidden('sign in to change your password');
  const account = await changeOwnPassword(
    getDb(),
    principal.actor,
    await readJsonBody(request),
    auditActorOf(principal, requestId),
    { client: await requestClientKey() },
  );
  const fresh = await startSession(account);
  return json({ username: fresh.actor, role: fresh.role });
});
