import { listTokens } from '@/db/api-tokens';
import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { createApiToken } from '@/server/commands/api-tokens';
import { adminRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

export const dynamic = 'force-dynamic';

/** Named API tokens (never their secrets): `{ items: [{ name, role, createdBy, createdAt, lastUsedAt }] }`. */
export const GET = adminRoute(async () => json({ items: await listTokens(getDb()) }));

/** `{ name, role }` → 201 with `token`, the secret, shown this once; 409 when the name is taken. */
export const POST = adminRoute(async ({ request, principal, requestId }) =>
  json(
    await createApiToken(getDb(), await readJsonBody(request), auditActorOf(principal, requestId)),
    {
      status: 201,
    },
  ),
);
