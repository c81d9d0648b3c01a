import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { sessionLimits } from '@/server/auth/session';
import { accountsOf, createAccount } from '@/server/commands/accounts';
import { adminRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

export const dynamic = 'force-dynamic';

/** Every account: `{ items: [{ username, displayName, role, disabled, createdAt, lastSignInAt, sso, activeSessions }] }`. */
export const GET = adminRoute(async () =>
  json({ items: await accountsOf(getDb(), sessionLimits().idleSeconds) }),
);

/** `{ username, displayName?, role, password }` → 201; 409 when the name is taken; 400 for a password under 12 characters. */
export const POST = adminRoute(async ({ request, principal, requestId }) => {
  const account = await createAccount(
    getDb(),
    await readJsonBody(request),
    auditActorOf(principal, requestId),
  );
  return json(account, { status: 201 });
});
