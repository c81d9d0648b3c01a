import { getDb } from '@/db/client';
import { auditActorOf } from '@/lib/auth/principal';
import { retrySaga } from '@/lib/commands/operator-action';
import { operatorRoute } from '@/lib/http/api-route';
import { readJsonBody } from '@/lib/http/body';
import { json } from '@/lib/http/responses';

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
