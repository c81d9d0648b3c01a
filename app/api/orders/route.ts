import { getDb } from '@/db/client';
import { createOrder } from '@/server/commands/create-order';
import { operatorRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

/** 201 for a new order; 200 with the original answer when an Idempotency-Key is replayed. */
export const POST = operatorRoute(async ({ request, signal, principal, requestId }) => {
  const body = await readJsonBody(request);
  const result = await createOrder(getDb(), body, {
    idempotencyKey: request.headers.get('idempotency-key'),
    actor: principal.actor,
    requestId,
    signal,
  });
  const { orderId, sagaId, state, replayed } = result;
  return json(
    { orderId, sagaId, state },
    {
      status: replayed ? 200 : 201,
      headers: {
        location: `/api/sagas/${sagaId}`,
        ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
      },
    },
  );
});
