import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { setOnHand } from '@/server/commands/set-on-hand';
import { operatorRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

/** `{ onHand, reason? }`; 409 when onHand is below what is reserved. */
export const PUT = operatorRoute<{ sku: string }>(
  async ({ request, params, principal, requestId }) => {
    const level = await setOnHand(
      getDb(),
      params.sku,
      await readJsonBody(request),
      auditActorOf(principal, requestId),
    );
    return json(level);
  },
);
