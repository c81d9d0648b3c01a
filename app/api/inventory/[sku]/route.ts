import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { setOnHand } from '@/lib/commands/set-on-hand';
import { operatorRoute } from '@/lib/http/api-route';
import { readJsonBody } from '@/lib/http/body';
import { json } from '@/lib/http/responses';

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
