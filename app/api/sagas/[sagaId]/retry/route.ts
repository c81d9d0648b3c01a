import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { retrySaga } from '@/server/commands/operator-action';
import { operatorRoute } from '@/server/http/api-route';
import { readJsonBody } from '@/server/http/body';
import { json } from '@/server/http/responses';

/** 202: the step or compensation is queued again; 409 when the saga does not need it. */
export const POST = operatorRoute<{ sagaId: string }>(
  async ({ request, params, principal, requestId }) => {
    const result = await retrySaga(
      getDb(),
      params.sagaId,
      await readJsonBody(request),
      auditActorOf(principal, requestId),
    );
    return json(result, { status: 202 });
  },
);
