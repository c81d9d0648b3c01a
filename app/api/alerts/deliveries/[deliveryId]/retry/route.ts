import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { retryAlertDelivery } from '@/server/commands/alerts';
import { operatorRoute } from '@/server/http/api-route';
import { json } from '@/server/http/responses';

/** 202 `{ deliveryId }`: sent again at once; 404 unknown, 409 already delivered. */
export const POST = operatorRoute<{ deliveryId: string }>(
  async ({ params, principal, requestId }) =>
    json(await retryAlertDelivery(getDb(), params.deliveryId, auditActorOf(principal, requestId)), {
      status: 202,
    }),
);
