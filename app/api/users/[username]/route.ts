import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { changeAccount } from '@/server/commands/accounts';
import { adminRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

export const dynamic = 'force-dynamic';

/**
 * `{ displayName?, role?, disabled?, password? }` → 200 with the account. Disabling, a new role
 * or a new password revoke the account's sessions; the last enabled admin cannot be disabled
 * or demoted (409).
 */
export const PATCH = adminRoute<{ username: string }>(
  async ({ request, params, principal, requestId }) =>
    json(
      await changeAccount(
        getDb(),
        params.username,
        await readJsonBody(request),
        auditActorOf(principal, requestId),
      ),
    ),
);
