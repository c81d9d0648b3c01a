import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { cancelSaga } from '@/server/commands/operator-action';
import { operatorRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

/** 202: compensation of what was done is queued; 409 when the saga has finished or is already unwinding. */
export const POST = operatorRoute<{ sagaId: string }>(
  async ({ request, params, principal, requestId }) => {
    const result = await cancelSaga(
      getDb(),
      params.sagaId,
      await readJsonBody(request),
      auditActorOf(principal, requestId),
    );
    return json(result, { status: 202 });
  },
);
